//! Realistic people for the demo and the scale generator: names, sexes, ages, education, dates of
//! joining and valid ID numbers, drawn to match the national figures in RULES.md
//! (中国共产党党内统计公报 2024) or a university's mix.

use chrono::{Datelike, Duration, NaiveDate};
use domain::member::{Category, Education, Gender, Status, ValidMember, ETHNICITIES};
use domain::{IdNumber, Phone};
use rand::rngs::StdRng;
use rand::Rng;

const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤";
const MALE_CHARS: &str = "伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥才发武新利清飞彬富顺信子杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思群豪心邦承乐绍功松善厚庆磊民友裕河哲江超浩亮政谦亨奇固之轮翰朗伯宏言若鸣朋斌梁栋维启克伦翔旭鹏泽晨辰士以建家致树炎德行时泰盛雄琛钧冠策腾楠榕风航弘";
const FEMALE_CHARS: &str = "秀娟英华慧巧美娜静淑惠珠翠雅芝玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽";
/// Hangzhou district codes, for the demo's ID numbers.
const ZHEJIANG_REGIONS: [u32; 10] = [
    330102, 330105, 330106, 330108, 330109, 330110, 330122, 330182, 330203, 330302,
];

/// Who a generated person is like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// University staff: 25–60, mostly graduate degrees, about half women.
    Staff,
    /// Students: 19–25, many probationary.
    Student,
    /// Retirees: 60–92, the oldest often without a smartphone.
    Retired,
    /// The national mix: 30.9% women, 7.7% minorities, 57.6% college or above, 28.9% over 60.
    National,
}

pub struct People {
    rng: StdRng,
    today: NaiveDate,
    serial: u32,
}

fn pick_char(rng: &mut StdRng, chars: &str) -> char {
    let n = chars.chars().count();
    chars.chars().nth(rng.gen_range(0..n)).unwrap_or('明')
}

impl People {
    /// `first_serial` keeps ID numbers apart from those of an earlier run on the same database.
    pub fn new(rng: StdRng, today: NaiveDate, first_serial: u32) -> People {
        People {
            rng,
            today,
            serial: first_serial,
        }
    }

    pub fn rng(&mut self) -> &mut StdRng {
        &mut self.rng
    }

    pub fn name(&mut self, gender: Gender) -> String {
        let rng = &mut self.rng;
        let chars = if gender == Gender::Female {
            FEMALE_CHARS
        } else {
            MALE_CHARS
        };
        let mut name = pick_char(rng, SURNAMES).to_string();
        name.push(pick_char(rng, chars));
        if rng.gen_bool(0.7) {
            name.push(pick_char(rng, chars));
        }
        name
    }

    fn age(&mut self, profile: Profile) -> u32 {
        let rng = &mut self.rng;
        match profile {
            Profile::Staff => rng.gen_range(25..=60),
            Profile::Student => rng.gen_range(19..=25),
            Profile::Retired => {
                // Skewed toward the late 60s and 70s.
                let a: u32 = rng.gen_range(60..=80);
                if rng.gen_bool(0.2) {
                    a + rng.gen_range(0..=12)
                } else {
                    a
                }
            }
            Profile::National => {
                if rng.gen_bool(0.289) {
                    rng.gen_range(61..=95)
                } else {
                    rng.gen_range(19..=60)
                }
            }
        }
    }

    fn education(&mut self, profile: Profile, age: u32) -> Education {
        let r: f64 = self.rng.gen();
        match profile {
            Profile::Staff if r < 0.3 => Education::Doctorate,
            Profile::Staff if r < 0.8 => Education::Master,
            Profile::Staff => Education::Bachelor,
            Profile::Student if r < 0.25 => Education::Master,
            Profile::Student => Education::HighSchool,
            Profile::Retired if r < 0.4 => Education::Bachelor,
            Profile::Retired if r < 0.7 => Education::Associate,
            Profile::Retired => Education::HighSchool,
            // 57.6% college or above, fewer among the old.
            Profile::National => {
                let college = if age > 60 { 0.3 } else { 0.69 };
                if r < college * 0.1 {
                    Education::Master
                } else if r < college * 0.55 {
                    Education::Bachelor
                } else if r < college {
                    Education::Associate
                } else if r < college + (1.0 - college) * 0.5 {
                    Education::HighSchool
                } else {
                    Education::JuniorHighOrBelow
                }
            }
        }
    }

    /// A member as the profile suggests; `work_unit` is where they work or study.
    pub fn member(&mut self, profile: Profile, work_unit: &str) -> ValidMember {
        let women = match profile {
            Profile::National => 0.309,
            Profile::Retired => 0.4,
            _ => 0.5,
        };
        let gender = if self.rng.gen_bool(women) {
            Gender::Female
        } else {
            Gender::Male
        };
        let age = self.age(profile);
        let birth = NaiveDate::from_ymd_opt(self.today.year() - age as i32, 1, 1).unwrap()
            + Duration::days(self.rng.gen_range(0..365));
        let birth = birth.min(self.today - Duration::days(365 * age as i64));
        // Each serial gets its own (region, sequence) pair, so ID numbers never collide; the last
        // sequence digit is odd for men and even for women (GB 11643).
        let serial = self.serial;
        self.serial += 1;
        let seq = (serial % 500) * 2 + u32::from(gender == Gender::Male);
        let block = serial / 500;
        let region = match profile {
            Profile::National => 330_000 + block,
            _ => ZHEJIANG_REGIONS[block as usize % ZHEJIANG_REGIONS.len()],
        };
        let id_number = IdNumber::compose(region, birth, seq);
        let join_age = match profile {
            Profile::Student => self.rng.gen_range(18..=age.max(19)),
            _ => self.rng.gen_range(18..=age.clamp(19, 35)),
        };
        let joined = (birth + Duration::days(365 * join_age as i64 + self.rng.gen_range(10..300)))
            .min(self.today - Duration::days(30));
        let probationary = match profile {
            Profile::Student => self.today - joined < Duration::days(365) || self.rng.gen_bool(0.25),
            _ => self.today - joined < Duration::days(366),
        };
        let (category, full_member_on) = if probationary && self.today - joined < Duration::days(365) {
            (Category::Probationary, None)
        } else {
            let full = joined + Duration::days(365 + self.rng.gen_range(0..40));
            if full > self.today {
                (Category::Probationary, None)
            } else {
                (Category::Full, Some(full))
            }
        };
        let old = age >= 75;
        let offline = profile == Profile::Retired && old && self.rng.gen_bool(0.45)
            || profile == Profile::National && old && self.rng.gen_bool(0.3);
        let phone = (!offline || self.rng.gen_bool(0.3)).then(|| {
            let prefix = [
                "138", "139", "135", "137", "150", "152", "158", "159", "187", "188", "133", "153", "180", "189",
                "130", "131", "132", "155", "156", "186",
            ];
            let p = format!(
                "{}{:08}",
                prefix[self.rng.gen_range(0..prefix.len())],
                self.rng.gen_range(0..100_000_000u32)
            );
            Phone::parse(&p).expect("generated phones are valid")
        });
        let minority = if profile == Profile::National { 0.077 } else { 0.05 };
        let ethnicity = if self.rng.gen_bool(minority) {
            ETHNICITIES[self.rng.gen_range(1..ETHNICITIES.len())]
        } else {
            "汉族"
        }
        .to_string();
        let education = self.education(profile, age);
        let status = if profile == Profile::Retired && self.rng.gen_bool(0.01) {
            Status::Deceased
        } else {
            Status::Active
        };
        let post = match profile {
            Profile::Staff => {
                ["教师", "副教授", "教授", "讲师", "科员", "副处长", "辅导员", "工程师"][self.rng.gen_range(0..8)]
            }
            Profile::Student => ["本科生", "本科生", "研究生"][self.rng.gen_range(0..3)],
            Profile::Retired => "退休",
            Profile::National => {
                ["职工", "农民", "教师", "公务员", "医生", "工程师", "个体经营", "退休"][self.rng.gen_range(0..8)]
            }
        };
        ValidMember {
            name: self.name(gender),
            gender,
            ethnicity,
            birth_date: birth,
            id_number,
            phone,
            address: self.rng.gen_bool(0.6).then(|| {
                format!(
                    "杭州市西湖区文三路{}号{}室",
                    self.rng.gen_range(1..600),
                    self.rng.gen_range(101..1802)
                )
            }),
            education: Some(education),
            work_unit: (!work_unit.is_empty()).then(|| work_unit.to_string()),
            post: Some(post.to_string()),
            joined_on: joined,
            full_member_on,
            category,
            status,
            offline,
        }
    }
}
