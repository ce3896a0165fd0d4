//! credit_scoring: exact loan scoring inside PostgreSQL.
//!
//! The rules live in the pure `credit_core` crate; this crate converts
//! values at the SQL boundary (`numeric`), exposes the SQL functions
//! (`api`) and installs the SQL objects (`src/sql/*.sql`).

use pgrx::prelude::*;

/// Declares `pg_finfo_<name>` so PostgreSQL calls `<name>` with the V1
/// convention (what `PG_FUNCTION_INFO_V1` does in C).
macro_rules! function_info_v1 {
    ($finfo:ident) => {
        #[unsafe(no_mangle)]
        #[doc(hidden)]
        pub extern "C" fn $finfo() -> &'static ::pgrx::pg_sys::Pg_finfo_record {
            const V1_API: ::pgrx::pg_sys::Pg_finfo_record =
                ::pgrx::pg_sys::Pg_finfo_record { api_version: 1 };
            &V1_API
        }
    };
}

mod api;
mod fn_extra;
mod numeric;
mod recorder;
mod scorecards;
mod settings;
mod triggers;
mod tuple;

::pgrx::pg_module_magic!(name, version);

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    settings::register();
}

// The SQL surface, in the order it must be created.
extension_sql_file!("sql/score.sql", name = "score", bootstrap);
extension_sql_file!(
    "sql/scorecards.sql",
    name = "scorecards",
    requires =
        ["score", scorecards::reference_scorecard, scorecards::check_scorecard, scorecards::lint_scorecard]
);
extension_sql_file!("sql/triggers.sql", name = "triggers", requires = ["scorecards"]);
extension_sql_file!("sql/views.sql", name = "views", requires = ["triggers"]);

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
        assert_eq!(score("10000000, 5000000, 50000000, 24"), "420 high {assets_under_80,tenor_over_12}");
        assert_eq!(score("2000000, 0, 10000000, 6"), "300 high {dsr_over_50,assets_under_80}");
    }

    /// Every golden vector through SQL, every field. In this debug build each
    /// result tuple is also checked byte for byte against heap_form_tuple.
    #[pg_test]
    fn golden_vectors_through_sql() {
        let csv = include_str!("../tests/golden_vectors.csv");
        let mut values = Vec::new();
        for line in csv.lines().skip(1) {
            let mut quoted = false;
            let mut fields = vec![String::new()];
            for c in line.chars() {
                match c {
                    '"' => quoted = !quoted,
                    ',' if !quoted => fields.push(String::new()),
                    c => fields.last_mut().unwrap().push(c),
                }
            }
            let expected = fields[4..].join("|");
            values.push(format!(
                "({},{},{},{},'{}')",
                fields[0],
                fields[1],
                fields[2],
                fields[3],
                expected.replace('\'', "''")
            ));
        }
        let mismatches = Spi::get_one::<i64>(&format!(
            "SELECT count(*) FROM (VALUES {}) AS v(i, a, l, t, expected),
                    LATERAL credit.score_credit(i, a, l, t) AS s
             WHERE concat_ws('|', s.credit_score, s.default_probability, s.segment, s.dsr,
                             s.monthly_installment, s.dsr_points, s.acr_points, s.tenor_points,
                             s.persona, s.reasons, s.recommendation) <> v.expected",
            values.join(",")
        ))
        .unwrap()
        .unwrap();
        assert_eq!(mismatches, 0);
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
