//! credit_scoring: exact loan scoring inside PostgreSQL.
//!
//! The rules live in the pure `credit_core` crate; this crate converts
//! values at the SQL boundary (`numeric`), exposes the SQL functions
//! (`api`) and installs the SQL objects (`src/sql/*.sql`).

use pgrx::prelude::*;

mod api;
mod numeric;

::pgrx::pg_module_magic!(name, version);

// The SQL surface, in the order it must be created.
extension_sql_file!("sql/score.sql", name = "score", bootstrap);

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    #[pg_test]
    fn scores_the_old_services_examples() {
        let score = |args: &str| {
            Spi::get_one::<String>(&format!(
                "SELECT format('%s %s %s', credit_score, segment, reasons) FROM credit.score_credit({args})"
            ))
            .unwrap()
            .unwrap()
        };
        assert_eq!(score("5000000, 20000000, 10000000, 12"), "600 medium {}");
        assert_eq!(
            score("10000000, 5000000, 50000000, 24"),
            "420 high {assets_under_80,tenor_over_12}"
        );
        assert_eq!(
            score("2000000, 0, 10000000, 6"),
            "300 high {dsr_over_50,assets_under_80}"
        );
    }
}

/// This module is required by `cargo pgrx test` invocations.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
