//! The demo's question bank and exams: over five hundred questions written from public facts — the
//! national congresses, events of Party history, the Constitution and the rules the platform
//! keeps (dues bands, meeting frequencies, the study minimum) — each fact asked several ways; a
//! committee exam and a branch quiz drawn from it, taken by members of one branch with grades that
//! vary, one short answer waiting to be marked.

use super::*;
use store::study::attempts::{self, SubmitInput};
use store::study::exams::{self, ExamInput, Rule};
use store::study::questions::{self, QuestionInput};

/// The national congresses: year and, for the early ones, where they met.
const CONGRESSES: [(u32, i32, &str); 20] = [
    (1, 1921, "上海"),
    (2, 1922, "上海"),
    (3, 1923, "广州"),
    (4, 1925, "上海"),
    (5, 1927, "武汉"),
    (6, 1928, "莫斯科"),
    (7, 1945, "延安"),
    (8, 1956, "北京"),
    (9, 1969, "北京"),
    (10, 1973, "北京"),
    (11, 1977, "北京"),
    (12, 1982, "北京"),
    (13, 1987, "北京"),
    (14, 1992, "北京"),
    (15, 1997, "北京"),
    (16, 2002, "北京"),
    (17, 2007, "北京"),
    (18, 2012, "北京"),
    (19, 2017, "北京"),
    (20, 2022, "北京"),
];

const EVENTS: [(&str, i32); 38] = [
    ("五四运动", 1919),
    ("中国共产党成立", 1921),
    ("南昌起义", 1927),
    ("八七会议", 1927),
    ("秋收起义", 1927),
    ("古田会议", 1929),
    ("遵义会议", 1935),
    ("四渡赤水", 1935),
    ("飞夺泸定桥", 1935),
    ("瓦窑堡会议", 1935),
    ("红军三大主力会宁会师", 1936),
    ("西安事变", 1936),
    ("七七事变", 1937),
    ("洛川会议", 1937),
    ("百团大战", 1940),
    ("皖南事变", 1941),
    ("延安整风运动开始", 1942),
    ("抗日战争胜利", 1945),
    ("重庆谈判", 1945),
    ("辽沈战役", 1948),
    ("党的七届二中全会在西柏坡召开", 1949),
    ("中华人民共和国成立", 1949),
    ("中国人民志愿军赴朝作战", 1950),
    ("第一个五年计划开始实施", 1953),
    ("第一部《中华人民共和国宪法》通过", 1954),
    ("社会主义改造基本完成", 1956),
    ("我国第一颗原子弹爆炸成功", 1964),
    ("恢复在联合国的合法席位", 1971),
    ("党的十一届三中全会召开", 1978),
    ("邓小平南方谈话", 1992),
    ("香港回归祖国", 1997),
    ("澳门回归祖国", 1999),
    ("中国加入世界贸易组织", 2001),
    ("神舟五号载人飞行成功", 2003),
    ("北京奥运会举办", 2008),
    ("党的十八大召开", 2012),
    ("庆祝中国共产党成立100周年大会", 2021),
    ("党的二十大召开", 2022),
];

/// Facts as a sentence with one blank, the right word and three wrong ones, and the category.
const FACTS: [(&str, &str, [&str; 3], &str); 36] = [
    (
        "党的最高理想和最终目标是实现______。",
        "共产主义",
        ["社会主义", "小康社会", "现代化"],
        "constitution",
    ),
    (
        "党的根本组织原则是______。",
        "民主集中制",
        ["集体领导", "少数服从多数", "个人分工负责"],
        "constitution",
    ),
    ("预备党员的预备期为______年。", "一", ["两", "半", "三"], "constitution"),
    (
        "党员没有正当理由，连续______个月不参加党的组织生活、或不交纳党费、或不做党所分配的工作，就被认为是自行脱党。",
        "六",
        ["三", "十二", "九"],
        "constitution",
    ),
    (
        "党的全国代表大会每______年举行一次。",
        "五",
        ["四", "三", "十"],
        "constitution",
    ),
    (
        "申请入党的人须年满______岁。",
        "十八",
        ["十六", "二十", "二十二"],
        "constitution",
    ),
    (
        "企业、农村、机关、学校等基本单位，凡是有正式党员______人以上的，都应当成立党的基层组织。",
        "三",
        ["五", "七", "两"],
        "constitution",
    ),
    (
        "党支部党员人数一般不超过______人。",
        "五十",
        ["三十", "一百", "七十"],
        "skills",
    ),
    (
        "党员每年集中学习培训时间一般不少于______学时。",
        "32",
        ["24", "40", "56"],
        "skills",
    ),
    (
        "基层党组织书记和班子成员每年集中学习培训时间不少于______学时。",
        "56",
        ["32", "48", "72"],
        "skills",
    ),
    (
        "“三会一课”中的“一课”是指______。",
        "党课",
        ["团课", "专题讲座", "形势报告"],
        "skills",
    ),
    (
        "支部党员大会一般每______召开一次。",
        "季度",
        ["月", "半年", "年"],
        "skills",
    ),
    (
        "党支部委员会会议一般每______召开一次。",
        "月",
        ["季度", "周", "半年"],
        "skills",
    ),
    ("党小组会一般每______召开一次。", "月", ["季度", "周", "年"], "skills"),
    ("党课一般每______至少讲一次。", "季度", ["月", "半年", "年"], "skills"),
    (
        "在职党员月工资收入（税后）在3000元以下（含3000元）的，交纳月工资收入的______。",
        "0.5%",
        ["1%", "1.5%", "2%"],
        "constitution",
    ),
    (
        "在职党员月工资收入（税后）在3000元以上至5000元（含5000元）的，交纳月工资收入的______。",
        "1%",
        ["0.5%", "1.5%", "2%"],
        "constitution",
    ),
    (
        "在职党员月工资收入（税后）在5000元以上至10000元（含10000元）的，交纳月工资收入的______。",
        "1.5%",
        ["0.5%", "1%", "2%"],
        "constitution",
    ),
    (
        "在职党员月工资收入（税后）在10000元以上的，交纳月工资收入的______。",
        "2%",
        ["0.5%", "1%", "1.5%"],
        "constitution",
    ),
    (
        "离退休党员月退休费收入在5000元以下（含5000元）的，交纳月退休费收入的______。",
        "0.5%",
        ["1%", "1.5%", "2%"],
        "constitution",
    ),
    ("发展党员工作共有______个步骤。", "25", ["20", "30", "15"], "skills"),
    (
        "入党积极分子经过______以上的培养教育和考察，方可列为发展对象。",
        "一年",
        ["半年", "两年", "三个月"],
        "skills",
    ),
    (
        "党的宗旨是______。",
        "全心全意为人民服务",
        ["实现共同富裕", "为人民谋幸福", "实事求是"],
        "history",
    ),
    (
        "党的思想路线是一切从实际出发，理论联系实际，______，在实践中检验真理和发展真理。",
        "实事求是",
        ["与时俱进", "群众路线", "独立自主"],
        "theory",
    ),
    (
        "党的纪律处分有五种：警告、严重警告、撤销党内职务、留党察看、______。",
        "开除党籍",
        ["降级", "记过", "免职"],
        "constitution",
    ),
    ("留党察看最长不超过______年。", "两", ["一", "三", "五"], "constitution"),
    (
        "党章规定，党员必须履行______项义务。",
        "八",
        ["六", "十", "七"],
        "constitution",
    ),
    (
        "党章规定，党员享有______项权利。",
        "八",
        ["六", "十", "七"],
        "constitution",
    ),
    (
        "党的三大优良作风是理论联系实际、密切联系群众和______。",
        "批评与自我批评",
        ["艰苦奋斗", "谦虚谨慎", "求真务实"],
        "traditions",
    ),
    (
        "“两个务必”是务必使同志们继续地保持谦虚、谨慎、不骄、不躁的作风，务必使同志们继续地保持______的作风。",
        "艰苦奋斗",
        ["实事求是", "勤俭节约", "联系群众"],
        "traditions",
    ),
    (
        "中国特色社会主义最本质的特征是______。",
        "中国共产党领导",
        ["人民当家作主", "依法治国", "共同富裕"],
        "theory",
    ),
    (
        "新时代党的建设总要求以加强党的长期执政能力建设、先进性和纯洁性建设为主线，以______为统领。",
        "党的政治建设",
        ["思想建设", "组织建设", "作风建设"],
        "theory",
    ),
    (
        "我国社会主要矛盾已经转化为人民日益增长的美好生活需要和______的发展之间的矛盾。",
        "不平衡不充分",
        ["落后", "不协调", "不可持续"],
        "situation",
    ),
    (
        "全面建设社会主义现代化国家的首要任务是______。",
        "高质量发展",
        ["科技自立自强", "共同富裕", "乡村振兴"],
        "policy",
    ),
    (
        "发展是党执政兴国的第一要务，______是第一生产力。",
        "科技",
        ["人才", "创新", "教育"],
        "policy",
    ),
    (
        "“四个意识”是政治意识、大局意识、核心意识和______。",
        "看齐意识",
        ["忧患意识", "法治意识", "责任意识"],
        "theory",
    ),
];

const MULTIPLE: [(&str, [&str; 4], &str, &str); 8] = [
    (
        "“三会一课”中的“三会”包括：",
        ["支部党员大会", "支部委员会", "党小组会", "民主生活会"],
        "ABC",
        "skills",
    ),
    (
        "发展党员工作中，下列属于“发展对象的确定和考察”阶段的有：",
        ["确定为发展对象", "报上级党委备案", "政治审查", "召开支部大会讨论"],
        "ABC",
        "skills",
    ),
    (
        "党的纪律包括：",
        ["政治纪律", "组织纪律", "廉洁纪律", "学术纪律"],
        "ABC",
        "constitution",
    ),
    (
        "“四个自信”包括：",
        ["道路自信", "理论自信", "制度自信", "文化自信"],
        "ABCD",
        "theory",
    ),
    (
        "党员教育管理工作条例规定的学习内容包括：",
        ["政治理论", "党章党规党纪", "党的宗旨和党史", "娱乐资讯"],
        "ABC",
        "skills",
    ),
    (
        "下列属于党的优良传统和作风的有：",
        ["理论联系实际", "密切联系群众", "批评与自我批评", "形式主义"],
        "ABC",
        "traditions",
    ),
    (
        "民主评议党员的主要程序包括：",
        ["学习教育", "自我评价", "民主测评", "公开排名"],
        "ABC",
        "skills",
    ),
    (
        "党费可以用于：",
        [
            "培训党员",
            "订阅或购买党报党刊、资料",
            "表彰先进基层党组织和优秀党员",
            "发放个人奖金",
        ],
        "ABC",
        "constitution",
    ),
];

const SHORT: [(&str, &str); 5] = [
    (
        "简述开好组织生活会的主要环节。",
        "会前学习和征求意见、谈心谈话、查摆问题、批评与自我批评、会后整改。",
    ),
    (
        "简述党员的八项义务中的任意三项。",
        "认真学习；贯彻执行党的基本路线和各项方针政策；坚持党和人民的利益高于一切……",
    ),
    (
        "谈谈你对“全心全意为人民服务”的理解。",
        "宗旨意识、群众观点、联系本职工作。",
    ),
    (
        "简述“三会一课”制度的意义。",
        "严格党的组织生活、加强党员教育管理的基本制度。",
    ),
    (
        "结合工作实际，谈谈如何发挥党员先锋模范作用。",
        "立足岗位、带头攻坚、服务群众。",
    ),
];

fn q(
    kind: &str,
    stem: String,
    options: Vec<String>,
    answer: &str,
    category: &str,
    difficulty: i64,
    explanation: String,
) -> QuestionInput {
    QuestionInput {
        org_id: None,
        kind: Some(kind.into()),
        stem: Some(stem),
        options,
        answer: Some(answer.into()),
        categories: vec![category.into()],
        difficulty: Some(difficulty),
        explanation: Some(explanation),
        retired: None,
    }
}

/// Four options with the right one at a place the seed decides: the options and its letter.
fn placed(rng: &mut StdRng, right: String, wrong: Vec<String>) -> (Vec<String>, String) {
    let at = rng.gen_range(0..=wrong.len());
    let mut options = wrong;
    options.insert(at, right);
    (options, ((b'A' + at as u8) as char).to_string())
}

/// Every question of the demo's bank.
fn bank(rng: &mut StdRng) -> Vec<QuestionInput> {
    let mut out = Vec::new();
    for (n, year, place) in CONGRESSES {
        let wrong = vec![(year - 1).to_string(), (year + 1).to_string(), (year + 2).to_string()];
        let (options, key) = placed(rng, year.to_string(), wrong);
        let why = format!("党的第{n}次全国代表大会于{year}年召开。");
        out.push(q(
            "single",
            format!("党的第{n}次全国代表大会于哪一年召开？"),
            options,
            &key,
            "history",
            2,
            why.clone(),
        ));
        out.push(q(
            "fill",
            format!("党的第{n}次全国代表大会于______年召开。"),
            Vec::new(),
            &year.to_string(),
            "history",
            3,
            why.clone(),
        ));
        out.push(q(
            "judge",
            format!("党的第{n}次全国代表大会于{year}年召开。"),
            Vec::new(),
            "对",
            "history",
            1,
            why.clone(),
        ));
        out.push(q(
            "judge",
            format!("党的第{n}次全国代表大会于{}年召开。", year + 1),
            Vec::new(),
            "错",
            "history",
            2,
            why.clone(),
        ));
        let others: Vec<String> = [n + 1, n + 2, n.saturating_sub(1).max(n + 3)]
            .iter()
            .map(|k| format!("第{k}次"))
            .collect();
        let (options, key) = placed(rng, format!("第{n}次"), others);
        out.push(q(
            "single",
            format!("{year}年召开的是党的第几次全国代表大会？"),
            options,
            &key,
            "history",
            3,
            why.clone(),
        ));
        if n <= 7 {
            let places = ["上海", "广州", "武汉", "莫斯科", "延安", "北京"];
            let wrong: Vec<String> = places
                .iter()
                .filter(|p| **p != place)
                .take(3)
                .map(|p| p.to_string())
                .collect();
            let (options, key) = placed(rng, place.to_string(), wrong);
            out.push(q(
                "single",
                format!("党的第{n}次全国代表大会在哪里召开？"),
                options,
                &key,
                "history",
                3,
                format!("党的第{n}次全国代表大会在{place}召开。"),
            ));
        }
    }
    let mut years_asked = std::collections::HashSet::new();
    for (i, (event, year)) in EVENTS.iter().enumerate() {
        let why = format!("{event}发生在{year}年。");
        let wrong = vec![(year - 2).to_string(), (year + 1).to_string(), (year + 3).to_string()];
        let (options, key) = placed(rng, year.to_string(), wrong);
        out.push(q(
            "single",
            format!("{event}发生在哪一年？"),
            options,
            &key,
            "history",
            2,
            why.clone(),
        ));
        out.push(q(
            "fill",
            format!("{event}发生在______年。"),
            Vec::new(),
            &year.to_string(),
            "history",
            3,
            why.clone(),
        ));
        out.push(q(
            "judge",
            format!("{event}发生在{year}年。"),
            Vec::new(),
            "对",
            "history",
            1,
            why.clone(),
        ));
        out.push(q(
            "judge",
            format!("{event}发生在{}年。", year - 1),
            Vec::new(),
            "错",
            "history",
            2,
            why.clone(),
        ));
        out.push(q(
            "judge",
            format!("{event}发生在{}年。", year + 2),
            Vec::new(),
            "错",
            "history",
            2,
            why.clone(),
        ));
        // "Which of these happened in that year" (once a year): three events of other years beside it.
        if !years_asked.insert(*year) {
            continue;
        }
        let wrong: Vec<String> = EVENTS
            .iter()
            .cycle()
            .skip(i + 5)
            .filter(|(_, y)| y != year)
            .take(3)
            .map(|(e, _)| e.to_string())
            .collect();
        let (options, key) = placed(rng, event.to_string(), wrong);
        out.push(q(
            "single",
            format!("下列哪一事件发生在{year}年？"),
            options,
            &key,
            "history",
            3,
            why,
        ));
    }
    for (sentence, right, wrong, category) in FACTS {
        let said = |w: &str| sentence.replace("______", w);
        let why = said(right);
        let (options, key) = placed(rng, right.to_string(), wrong.iter().map(|w| w.to_string()).collect());
        out.push(q(
            "single",
            sentence.replace("______", "（　）"),
            options,
            &key,
            category,
            2,
            why.clone(),
        ));
        out.push(q(
            "fill",
            sentence.to_string(),
            Vec::new(),
            right,
            category,
            3,
            why.clone(),
        ));
        out.push(q("judge", said(right), Vec::new(), "对", category, 1, why.clone()));
        out.push(q("judge", said(wrong[0]), Vec::new(), "错", category, 2, why.clone()));
        out.push(q("judge", said(wrong[1]), Vec::new(), "错", category, 2, why));
    }
    for (stem, options, key, category) in MULTIPLE {
        out.push(q(
            "multiple",
            stem.to_string(),
            options.iter().map(|o| o.to_string()).collect(),
            key,
            category,
            3,
            String::new(),
        ));
    }
    for (stem, points) in SHORT {
        out.push(q(
            "short",
            stem.to_string(),
            Vec::new(),
            points,
            "skills",
            4,
            String::new(),
        ));
    }
    // 国办函〔2026〕12号, asked as it is kept.
    out.push(q(
        "judge",
        "党员在学习平台上的在线时长可以作为考核党员的依据。".into(),
        Vec::new(),
        "错",
        "skills",
        1,
        "学习时长、点赞数不作为考核依据（国办函〔2026〕12号）。".into(),
    ));
    out
}

pub(super) async fn seed(store: &Store, caller: &Caller, plans: &[Plan], root: i64) -> Result<()> {
    let mut rng = StdRng::seed_from_u64(2019);
    let rows: Vec<questions::ImportRow> = bank(&mut rng)
        .into_iter()
        .enumerate()
        .map(|(i, input)| questions::ImportRow { line: i + 2, input })
        .collect();
    // The bank goes in as a committee would load it: through the import, all or nothing.
    let plan = questions::plan_import(&store.db, caller, Some(root), rows).await?;
    anyhow::ensure!(plan.problems.is_empty(), "demo questions: {:?}", plan.problems);
    questions::commit_import(&store.db, caller, Some(root), &plan).await?;

    let today = store::clock::today();
    let year_end = NaiveDate::from_ymd_opt(chrono::Datelike::year(&today), 12, 31).expect("a date");
    let rule = |category: &str, kind: &str, count: i64| Rule {
        category: Some(category.into()),
        kind: Some(kind.into()),
        difficulty: None,
        count,
    };
    let committee_exam = exams::create(
        &store.db,
        caller,
        &ExamInput {
            org_id: Some(root),
            title: Some("党章党规知识测试".into()),
            note: Some("每次作答随机抽题；可考两次，取最高成绩。".into()),
            rules: vec![
                rule("constitution", "single", 10),
                rule("constitution", "judge", 5),
                rule("constitution", "multiple", 2),
            ],
            minutes: Some(30),
            attempts_allowed: Some(2),
            pass_percent: Some(60),
            opens_on: Some((today - chrono::Duration::days(10)).to_string()),
            closes_on: Some(year_end.to_string()),
            ..Default::default()
        },
    )
    .await?;
    let branch = plans
        .iter()
        .find(|p| p.org.name == "信息学院教工党支部")
        .expect("branch in layout")
        .org
        .id;
    let branch_quiz = exams::create(
        &store.db,
        caller,
        &ExamInput {
            org_id: Some(branch),
            title: Some("支部党史知识小测".into()),
            rules: vec![
                rule("history", "single", 8),
                rule("history", "judge", 4),
                rule("skills", "short", 1),
            ],
            minutes: Some(20),
            attempts_allowed: Some(1),
            partial_credit: true,
            explain: Some("after_close".into()),
            opens_on: Some((today - chrono::Duration::days(5)).to_string()),
            closes_on: Some(year_end.to_string()),
            ..Default::default()
        },
    )
    .await?;

    // Members of another branch take the committee's test (grades vary; a few fail); one member of
    // the secretary's branch took the quiz and waits for their short answer to be marked.
    let other = plans
        .iter()
        .find(|p| p.org.id != branch && p.org.kind == domain::org::OrgKind::Branch)
        .expect("branches in layout")
        .org
        .id;
    let takers: Vec<(i64, String)> = store
        .db
        .all(
            Q::new("SELECT id, org_path FROM members WHERE org_id = $1 AND status = 'active' ORDER BY id LIMIT 12")
                .bind(other),
        )
        .await?;
    for (i, (member_id, path)) in takers.iter().enumerate() {
        let who = as_member(*member_id, path);
        let a = attempts::start(&store.db, &who, committee_exam.id).await?;
        // The demo reads its own keys from the bank to answer: most right, some wrong.
        let keys: Vec<(i64, String)> = store
            .db
            .all(Q::new("SELECT position, answer FROM study_attempt_questions WHERE attempt_id = $1").bind(a.id))
            .await?;
        let skill = 0.45 + 0.05 * i as f64;
        let answers = keys
            .into_iter()
            .map(|(position, key)| {
                let given = if rng.gen_bool(skill.min(0.95)) { key } else { "A".into() };
                (position.to_string(), serde_json::Value::String(given))
            })
            .collect();
        attempts::submit(&store.db, &who, a.id, &SubmitInput { answers }).await?;
    }
    let quiz_taker: Option<(i64, String)> = store
        .db
        .opt(
            Q::new("SELECT id, org_path FROM members WHERE org_id = $1 AND status = 'active' ORDER BY id LIMIT 1")
                .bind(branch),
        )
        .await?;
    if let Some((member_id, path)) = quiz_taker {
        let who = as_member(member_id, &path);
        let a = attempts::start(&store.db, &who, branch_quiz.id).await?;
        let answers = a
            .questions
            .iter()
            .map(|q| {
                let given = if q.kind == "short" {
                    "会前认真准备，会上开展批评与自我批评，会后抓好整改落实。"
                } else {
                    "A"
                };
                (q.position.to_string(), serde_json::Value::String(given.into()))
            })
            .collect();
        attempts::submit(&store.db, &who, a.id, &SubmitInput { answers }).await?;
    }
    Ok(())
}

/// A member acting on their own study (an exam attempt), as their account would.
fn as_member(member_id: i64, org_path: &str) -> Caller {
    Caller {
        user_id: 0,
        username: format!("demo:member:{member_id}"),
        display_name: String::new(),
        member_id: Some(member_id),
        member_org_path: Some(org_path.to_string()),
        grants: Vec::new(),
        ip: "local".into(),
        must_change_password: false,
    }
}
