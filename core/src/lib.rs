//! credit_core: the credit scorecard as pure Rust, with no PostgreSQL in sight.
//!
//! Data flows one way: exact inputs ([`Application`], built by
//! [`Application::new`] which rejects what cannot be scored exactly) →
//! [`Scorecard::evaluate`] → an [`Assessment`]. The PostgreSQL layer only
//! converts values at the edges.

pub mod exact;
pub mod lint;
pub mod reference;
pub mod scorecard;
mod validate;

pub use exact::{Amount, AmountProblem, Fixed};
pub use scorecard::{Application, Assessment, Bands, Decision, Definition, DefinitionError, Scorecard};

/// The four inputs, named as the SQL arguments are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    MonthlyIncome,
    Assets,
    LoanAmount,
    TenorMonths,
}

impl Field {
    pub fn name(self) -> &'static str {
        match self {
            Field::MonthlyIncome => "monthly_income",
            Field::Assets => "assets",
            Field::LoanAmount => "loan_amount",
            Field::TenorMonths => "tenor_months",
        }
    }
}

/// What is wrong with an input, in the terms a SQLSTATE needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    Amount(AmountProblem),
    TenorBelowOne,
    /// A tenor column of a fractional type holding a fraction of a month.
    NotWholeMonths,
    /// NULL where a value is needed (only `validate_application` sees NULLs:
    /// the scoring functions are STRICT).
    Missing,
}

/// An input that cannot be scored: which argument, why, and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    pub field: Field,
    pub problem: Problem,
    /// The offending value as text, shortened when very long.
    pub value: String,
}

impl InputError {
    pub fn new(field: Field, problem: Problem, value: &str) -> InputError {
        InputError { field, problem, value: shorten(value) }
    }

    /// Out of range (SQLSTATE 22003) rather than invalid (22023)?
    pub fn is_out_of_range(&self) -> bool {
        matches!(self.problem, Problem::Amount(AmountProblem::OutOfRange | AmountProblem::TooManyDecimals))
    }

    /// A hint for the user, when there is a useful one.
    pub fn hint(&self) -> Option<String> {
        match self.problem {
            Problem::Amount(AmountProblem::TooManyDecimals) => {
                Some(format!("Round it first, e.g. round({}, 6).", self.field.name()))
            }
            Problem::Amount(AmountProblem::OutOfRange) if self.field != Field::TenorMonths => {
                Some("Amounts are scored exactly up to 1000000000000000 (10^15).".to_string())
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (name, v) = (self.field.name(), &self.value);
        match self.problem {
            Problem::Amount(AmountProblem::NotANumber) => {
                write!(f, "{name} must be a number, got {v}")
            }
            Problem::Amount(AmountProblem::Infinite) => write!(f, "{name} must be finite, got {v}"),
            Problem::Amount(AmountProblem::Negative) => {
                write!(f, "{name} must not be negative, got {v}")
            }
            Problem::Amount(AmountProblem::OutOfRange) => {
                write!(f, "{name} is out of range, got {v}")
            }
            Problem::Amount(AmountProblem::TooManyDecimals) => {
                write!(f, "{name} has more than {} decimal places, got {v}", exact::INPUT_SCALE)
            }
            Problem::TenorBelowOne => write!(f, "{name} must be at least 1, got {v}"),
            Problem::Missing => write!(f, "{name} is missing (NULL)"),
            Problem::NotWholeMonths => write!(f, "{name} must be a whole number of months, got {v}"),
        }
    }
}

impl std::error::Error for InputError {}

fn shorten(value: &str) -> String {
    const LIMIT: usize = 48;
    if value.len() <= LIMIT {
        value.to_string()
    } else {
        let head: String = value.chars().take(LIMIT - 12).collect();
        let tail: String = value.chars().rev().take(6).collect::<Vec<_>>().into_iter().rev().collect();
        format!("{head}…{tail} ({} characters)", value.len())
    }
}

impl Application {
    /// Checks the tenor; amounts were checked when they were made.
    pub fn new(
        monthly_income: Amount,
        assets: Amount,
        loan_amount: Amount,
        tenor_months: i32,
    ) -> Result<Application, InputError> {
        if tenor_months < 1 {
            return Err(InputError::new(
                Field::TenorMonths,
                Problem::TenorBelowOne,
                &tenor_months.to_string(),
            ));
        }
        Ok(Application { monthly_income, assets, loan_amount, tenor_months })
    }

    /// From decimal text, as tests and tools write inputs.
    pub fn parse(
        monthly_income: &str,
        assets: &str,
        loan_amount: &str,
        tenor_months: i32,
    ) -> Result<Application, InputError> {
        let amount = |field: Field, s: &str| {
            s.parse::<Amount>().map_err(|p| InputError::new(field, Problem::Amount(p), s))
        };
        Application::new(
            amount(Field::MonthlyIncome, monthly_income)?,
            amount(Field::Assets, assets)?,
            amount(Field::LoanAmount, loan_amount)?,
            tenor_months,
        )
    }
}
