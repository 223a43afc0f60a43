//! Password policy (等保 2.0 level 3, GB/T 22239-2019 §8.1.4.1: complexity): at least 8 characters
//! from at least 3 of the classes lower case, upper case, digits, other.

pub const MIN_LENGTH: usize = 8;
/// Failed logins before the account locks, and for how long (GB/T 22239-2019 §8.1.4.1 b).
pub const MAX_FAILED_LOGINS: i64 = 5;
pub const LOCK_MINUTES: i64 = 15;
/// Sessions end after this idle time (GB/T 22239-2019 §8.1.4.1 b, automatic logout).
pub const IDLE_MINUTES: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordProblem {
    TooShort,
    TooFewClasses,
    TooLong,
}

impl PasswordProblem {
    pub fn code(self) -> &'static str {
        match self {
            Self::TooShort => "too_short",
            Self::TooFewClasses => "too_simple",
            Self::TooLong => "too_long",
        }
    }
}

pub fn check_policy(password: &str) -> Result<(), PasswordProblem> {
    let len = password.chars().count();
    if len < MIN_LENGTH {
        return Err(PasswordProblem::TooShort);
    }
    // Bounds the argon2 input; no one types more.
    if len > 128 {
        return Err(PasswordProblem::TooLong);
    }
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    if classes.iter().filter(|c| **c).count() < 3 {
        return Err(PasswordProblem::TooFewClasses);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert_eq!(check_policy("Ab1!"), Err(PasswordProblem::TooShort));
        assert_eq!(check_policy("abcdefgh1"), Err(PasswordProblem::TooFewClasses));
        assert_eq!(check_policy("abcdefgH1"), Ok(()));
        assert_eq!(check_policy("abcdefg-1"), Ok(()));
        assert_eq!(check_policy("Demo-Pass-2026"), Ok(()));
        assert_eq!(check_policy(&"Aa1-".repeat(40)), Err(PasswordProblem::TooLong));
    }
}
