use crate::both;
use crate::support::App;
use reqwest::StatusCode;
use serde_json::json;
use store::db::Q;

both!(
    writes_and_sensitive_reads_are_chained_and_verified,
    |app: App| async move {
        let t = app.login("secretary").await;
        let (_, me) = app.get(&t, "/api/v1/me").await;
        let branch = me["grants"][0]["org_id"].as_i64().unwrap();
        let m = app.some_member(&t, branch).await;
        app.patch(
            &t,
            &format!("/api/v1/members/{}", m["id"]),
            json!({"post": "审计测试职务"}),
        )
        .await;
        app.post(&t, &format!("/api/v1/members/{}/reveal", m["id"]), json!({}))
            .await;
        app.get(&t, "/api/v1/members/export.csv").await;
        let auditor = app.login("auditor").await;
        let (status, log) = app.get(&auditor, "/api/v1/audit?actor=secretary").await;
        assert_eq!(status, StatusCode::OK);
        let actions: Vec<&str> = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            &actions[..4],
            ["member.export", "member.reveal", "member.update", "auth.login"],
            "{actions:?}"
        );
        let entry = &log["items"][0];
        assert_eq!(entry["ip"], "127.0.0.1");
        assert_eq!(entry["result"], "ok");
        assert!(entry["detail"].as_str().unwrap().contains("format=csv"));
        // Refusals are recorded too.
        let (status, _) = app.get(&t, "/api/v1/audit").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (_, denied) = app.get(&auditor, "/api/v1/audit?result=denied&actor=secretary").await;
        assert_eq!(denied["items"][0]["action"], "audit.read");

        assert!(store::audit::verify(&app.store.db).await.unwrap().is_ok());
        // Edit one entry: verification names it.
        let (seq,): (i64,) = app
            .store
            .db
            .one(Q::new("SELECT seq FROM audit_log WHERE action = 'member.reveal'"))
            .await
            .unwrap();
        app.store
            .db
            .exec(Q::new("UPDATE audit_log SET actor = 'someone' WHERE seq = $1").bind(seq))
            .await
            .unwrap();
        assert_eq!(
            store::audit::verify(&app.store.db).await.unwrap(),
            Err(store::audit::Broken::Edited(seq))
        );
    }
);

both!(removal_and_truncation_are_detected, |app: App| async move {
    let (last,): (i64,) = app
        .store
        .db
        .one(Q::new("SELECT MAX(seq) FROM audit_log"))
        .await
        .unwrap();
    assert!(last > 5);
    app.store
        .db
        .exec(Q::new("DELETE FROM audit_log WHERE seq = 3"))
        .await
        .unwrap();
    assert_eq!(
        store::audit::verify(&app.store.db).await.unwrap(),
        Err(store::audit::Broken::Gap { expected: 3, found: 4 })
    );
    let other = crate::support::App::start(if app.store.db.is_postgres() {
        crate::support::Backend::Postgres
    } else {
        crate::support::Backend::Sqlite
    })
    .await;
    let (last,): (i64,) = other
        .store
        .db
        .one(Q::new("SELECT MAX(seq) FROM audit_log"))
        .await
        .unwrap();
    other
        .store
        .db
        .exec(Q::new("DELETE FROM audit_log WHERE seq = $1").bind(last))
        .await
        .unwrap();
    // The head names it; so does the server's start checkpoint once it is written.
    let broken = store::audit::verify(&other.store.db).await.unwrap().unwrap_err();
    assert!(
        broken
            == store::audit::Broken::Head {
                head_seq: last,
                last_seq: last - 1
            }
            || matches!(broken, store::audit::Broken::Truncated { seq, last_seq, .. } if seq == last && last_seq == last - 1),
        "{broken:?}"
    );
});

// Whoever can write the database but lacks the key and the checkpoint file: a re-hashed edit,
// a log cut back with its head moved to match, an emptied log and a forged checkpoint all fail.
both!(a_database_writer_cannot_rewrite_or_cut_the_log, |app: App| async move {
    // A request answered means the server's start checkpoint is written.
    app.login("secretary").await;
    let db = &app.store.db;
    let anchored = store::audit::checkpoint(db).await.unwrap();
    let intact = store::audit::verify(db).await.unwrap().unwrap();
    assert_eq!(intact.entries, anchored.seq);
    assert!(intact.checkpoints >= 2, "the start checkpoint and ours");

    // An edit re-hashed with the old, unkeyed SM3 chain is still an edit.
    let (seq, prev): (i64, String) = db
        .one(Q::new("SELECT seq, prev_hash FROM audit_log WHERE seq = 5"))
        .await
        .unwrap();
    let forged = store::crypto::sm3_hex(format!("{seq}\u{1f}{prev}").as_bytes());
    db.exec(Q::new("UPDATE audit_log SET actor = 'nobody', hash = $1 WHERE seq = 5").bind(forged))
        .await
        .unwrap();
    assert_eq!(
        store::audit::verify(db).await.unwrap(),
        Err(store::audit::Broken::Edited(5))
    );

    // Cut back by three entries, the head moved to the new end: the checkpoint names the loss.
    let other = App::start(if db.is_postgres() {
        crate::support::Backend::Postgres
    } else {
        crate::support::Backend::Sqlite
    })
    .await;
    other.login("secretary").await;
    let db = &other.store.db;
    let c = store::audit::checkpoint(db).await.unwrap();
    db.exec(Q::new("DELETE FROM audit_log WHERE seq > $1").bind(c.seq - 3))
        .await
        .unwrap();
    db.exec(
        Q::new("UPDATE audit_head SET seq = $1, hash = (SELECT hash FROM audit_log WHERE seq = $1) WHERE id = 1")
            .bind(c.seq - 3),
    )
    .await
    .unwrap();
    let broken = store::audit::verify(db).await.unwrap().unwrap_err();
    assert_eq!(
        broken,
        store::audit::Broken::Truncated {
            at: c.at.clone(),
            seq: c.seq,
            last_seq: c.seq - 3
        }
    );
    assert!(
        broken.to_string().contains(&format!("entries {}–{}", c.seq - 2, c.seq)),
        "{broken}"
    );

    // Emptied, head reset: the same.
    db.exec(Q::new("DELETE FROM audit_log")).await.unwrap();
    db.exec(Q::new("UPDATE audit_head SET seq = 0, hash = '' WHERE id = 1"))
        .await
        .unwrap();
    assert!(matches!(
        store::audit::verify(db).await.unwrap(),
        Err(store::audit::Broken::Truncated { last_seq: 0, .. })
    ));

    // A checkpoint line written without the key is refused, naming its line.
    let file = other.data_dir.join("audit.checkpoints");
    let lines = std::fs::read_to_string(&file).unwrap().lines().count();
    store::private::append(&file, b"2026-01-01T00:00:00.000000Z\t0\t\tforged\n").unwrap();
    assert_eq!(
        store::audit::verify(db).await.unwrap(),
        Err(store::audit::Broken::UnsealedCheckpoint(lines + 1))
    );
});

// The retention removes old entries from the start and leaves a sealed mark; the chain verifies
// from it. A removal faked by a database writer (the mark moved without the key) is caught, and
// a retention under 184 days is refused.
both!(
    retention_removes_old_entries_under_a_sealed_mark,
    |app: App| async move {
        let db = &app.store.db;
        let too_short = store::audit::prune(db, 30, store::clock::now()).await;
        assert!(matches!(too_short, Err(store::Error::Invalid(_))), "{too_short:?}");
        store::audit::checkpoint(db).await.unwrap();
        let (before,): (i64,) = db.one(Q::new("SELECT COUNT(*) FROM audit_log")).await.unwrap();
        assert_eq!(
            store::audit::prune(db, 184, store::clock::now()).await.unwrap(),
            0,
            "nothing is that old"
        );
        // A year on, everything but the newest entry is past a 184-day retention.
        let later = store::clock::now() + chrono::Duration::days(365);
        let removed = store::audit::prune(db, 184, later).await.unwrap();
        assert_eq!(removed, before - 1);
        let (left,): (i64,) = db.one(Q::new("SELECT COUNT(*) FROM audit_log")).await.unwrap();
        assert_eq!(left, 2, "the newest entry and the removal's own");
        let intact = store::audit::verify(db).await.unwrap().expect("verifies from the mark");
        assert_eq!(intact.pruned_through, before - 1);
        let (action,): (String,) = db
            .one(Q::new("SELECT action FROM audit_log ORDER BY seq DESC LIMIT 1"))
            .await
            .unwrap();
        assert_eq!(action, "audit.prune");
        // A writer without the key removes more and moves the mark: caught.
        let (seq, hash): (i64, String) = db
            .one(Q::new("SELECT seq, hash FROM audit_log ORDER BY seq LIMIT 1"))
            .await
            .unwrap();
        db.exec(Q::new("DELETE FROM audit_log WHERE seq = $1").bind(seq))
            .await
            .unwrap();
        db.exec(
            Q::new("UPDATE audit_head SET pruned_seq = $1, pruned_hash = $2 WHERE id = 1")
                .bind(seq)
                .bind(hash),
        )
        .await
        .unwrap();
        assert_eq!(
            store::audit::verify(db).await.unwrap(),
            Err(store::audit::Broken::Pruned(seq))
        );
    }
);

// Whoever holds the database and the key but not the checkpoint file: entries rewritten and the
// whole chain after them re-sealed verify link by link, but not against the checkpoint of before.
both!(
    a_key_holder_cannot_rewrite_what_a_checkpoint_anchored,
    |app: App| async move {
        app.login("secretary").await;
        let db = &app.store.db;
        let anchored = store::audit::checkpoint(db).await.unwrap();
        app.login("committee").await;
        let key = app.store.keys.audit_key();
        let entries: Vec<store::audit::Entry> = db
            .all(Q::new("SELECT * FROM audit_log WHERE seq >= 4 ORDER BY seq"))
            .await
            .unwrap();
        let (mut prev,): (String,) = db
            .one(Q::new("SELECT hash FROM audit_log WHERE seq = 3"))
            .await
            .unwrap();
        for mut e in entries {
            if e.seq == 4 {
                e.actor = "someone-else".into();
            }
            let (seq, actor_id) = (e.seq.to_string(), e.actor_id.map(|i| i.to_string()).unwrap_or_default());
            let hash = key.mac(&[
                &seq,
                &e.at,
                &actor_id,
                &e.actor,
                &e.ip,
                &e.action,
                &e.target_type,
                &e.target_id,
                &e.result,
                &e.detail,
                &prev,
            ]);
            db.exec(
                Q::new("UPDATE audit_log SET actor = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
                    .bind(e.actor.clone())
                    .bind(prev.clone())
                    .bind(hash.clone())
                    .bind(e.seq),
            )
            .await
            .unwrap();
            prev = hash;
        }
        db.exec(Q::new("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(prev))
            .await
            .unwrap();
        match store::audit::verify(db).await.unwrap() {
            Err(store::audit::Broken::Rewritten { seq, .. }) => assert!(seq <= anchored.seq, "{seq}"),
            other => panic!("a re-sealed rewrite must fail against the checkpoint: {other:?}"),
        }
    }
);

// Two servers on one database append in turns and at once: each seals its next entry on the
// head its own last append left (PostgreSQL), finds it moved by the other, and takes the head
// again. Nothing is lost or numbered twice, and the chain verifies.
both!(two_servers_append_to_one_chain, |app: App| async move {
    let other = store::Store::open(
        &app.database_url,
        &app.key_file,
        &app.data_dir.join("audit.checkpoints"),
    )
    .await
    .unwrap();
    let (before,): (i64,) = app
        .store
        .db
        .one(Q::new("SELECT seq FROM audit_head WHERE id = 1"))
        .await
        .unwrap();
    let caller = store::Caller::system("test");
    let event = |i: usize| store::audit::Event::ok("test.append", "test", i);
    for i in 0..6 {
        let db = if i % 3 == 0 { &other.db } else { &app.store.db };
        store::audit::append_alone(db, &caller, event(i)).await.unwrap();
    }
    let mut at_once = tokio::task::JoinSet::new();
    for i in 6..30 {
        let db = if i % 2 == 0 {
            other.db.clone()
        } else {
            app.store.db.clone()
        };
        let caller = caller.clone();
        at_once.spawn(async move { store::audit::append_alone(&db, &caller, event(i)).await });
    }
    while let Some(appended) = at_once.join_next().await {
        appended.unwrap().unwrap();
    }
    let (seq, entries, distinct): (i64, i64, i64) = app
        .store
        .db
        .one(Q::new(
            "SELECT (SELECT seq FROM audit_head WHERE id = 1), COUNT(*), COUNT(DISTINCT target_id) FROM audit_log WHERE action = 'test.append'",
        ))
        .await
        .unwrap();
    assert_eq!((seq - before, entries, distinct), (30, 30, 30));
    let intact = store::audit::verify(&app.store.db)
        .await
        .unwrap()
        .expect("the chain verifies");
    assert_eq!(intact.entries, seq);
});
