use domain::Invalid;

/// Every way a store operation can fail, with a stable machine code (see `code`). The server maps
/// these once to HTTP statuses and translated messages.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Absent, or outside the caller's scope: the two are indistinguishable on purpose.
    #[error("not found")]
    NotFound,
    /// Visible, but the caller's grants do not allow this action.
    #[error("forbidden")]
    Forbidden,
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// Refused by a rule or by the current state; the code names which (`org.dissolve.has_members`).
    #[error("refused: {0}")]
    Refused(&'static str),
    #[error("wrong username or password")]
    BadCredentials,
    #[error("account locked")]
    Locked,
    #[error("not signed in")]
    Unauthenticated,
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

impl Error {
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotFound => "not_found",
            Error::Forbidden => "forbidden",
            Error::Invalid(_) => "validation",
            Error::Refused(code) => code,
            Error::BadCredentials => "auth.bad_credentials",
            Error::Locked => "auth.locked",
            Error::Unauthenticated => "auth.required",
            Error::Db(_) => "internal",
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
