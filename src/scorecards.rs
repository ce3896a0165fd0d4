//! Scorecards as data (SPEC §6): `credit.scorecards` holds JSON
//! definitions; they are parsed and validated with serde, and each distinct
//! definition is compiled once per backend — no JSON parsing per row.

use std::cell::RefCell;
use std::collections::HashMap;

use credit_core::{reference, Definition, DefinitionError, Scorecard};
use pgrx::prelude::*;
use pgrx::JsonB;

/// A definition from JSON text, with the JSON path of what is wrong.
/// Numbers are read as exact decimals (serde_json's arbitrary_precision),
/// never through f64: 0.30000000000000000001 is refused, not rounded.
pub fn parse(json: &str) -> Result<Definition, DefinitionError> {
    if !json.trim_start().starts_with('{') {
        return Err(DefinitionError {
            path: "$".into(),
            message: "a scorecard definition is a JSON object".into(),
        });
    }
    let mut de = serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        // The position refers to jsonb's re-serialised text: meaningless to
        // whoever wrote the definition, and the path already says where.
        let message = match message.rfind(" at line ") {
            Some(i) => message[..i].to_string(),
            None => message,
        };
        DefinitionError { path: if path == "." { "$".into() } else { format!("$.{path}") }, message }
    })
}

/// A compiled scorecard from its JSON definition.
pub fn compile(json: &str) -> Result<Scorecard, DefinitionError> {
    Scorecard::new(parse(json)?)
}

fn definition_error(e: &DefinitionError) -> ! {
    ereport!(
        ERROR,
        PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
        format!("invalid scorecard definition at {}: {}", e.path, e.message)
    );
}

thread_local! {
    /// name → (definition text, compiled scorecard). Compiled scorecards are
    /// leaked on purpose: one per distinct definition a backend meets, and
    /// row results point into them for the whole statement.
    static CACHE: RefCell<HashMap<String, (String, &'static Scorecard)>> = RefCell::new(HashMap::new());
}

/// The scorecard of this name. `reference` is built in (its row in
/// credit.scorecards is immutable and installed from the same value);
/// others are read from credit.scorecards — once per call site — and
/// compiled only when their definition text is new to this backend.
pub fn named(name: &str) -> &'static Scorecard {
    if name == "reference" {
        return reference::scorecard();
    }
    let text = Spi::get_one_with_args::<String>(
        "SELECT definition::pg_catalog.text FROM credit.scorecards WHERE name OPERATOR(pg_catalog.=) $1",
        &[name.into()],
    );
    let text = match text {
        Ok(Some(t)) => t,
        _ => {
            pgrx::pg_sys::panic::ErrorReport::new(
                PgSqlErrorCode::ERRCODE_UNDEFINED_OBJECT,
                format!("scorecard \"{name}\" does not exist"),
                "credit_scoring",
            )
            .set_hint("See SELECT name FROM credit.scorecards.")
            .report(PgLogLevel::ERROR);
            unreachable!()
        }
    };
    if let Some(card) = CACHE.with_borrow(|c| c.get(name).filter(|(t, _)| *t == text).map(|(_, card)| *card))
    {
        return card;
    }
    let card: &'static Scorecard =
        Box::leak(Box::new(compile(&text).unwrap_or_else(|e| definition_error(&e))));
    CACHE.with_borrow_mut(|c| c.insert(name.to_string(), (text, card)));
    card
}

/// The reference scorecard's definition, as installed in credit.scorecards.
#[pg_extern(immutable, parallel_safe)]
fn reference_scorecard() -> JsonB {
    JsonB(serde_json::to_value(reference::definition()).expect("the reference definition serializes"))
}

/// Validates a scorecard definition and returns it in canonical form
/// (every field present); raises 22023 naming the JSON path otherwise.
#[pg_extern(immutable, parallel_safe, strict)]
fn check_scorecard(definition: JsonB) -> JsonB {
    let card = compile(&definition.0.to_string()).unwrap_or_else(|e| definition_error(&e));
    JsonB(serde_json::to_value(card.definition()).expect("a definition serializes"))
}

/// What a scorecard can reach and what it cannot (SPEC §6).
#[pg_extern(immutable, parallel_safe, strict)]
fn lint_scorecard(definition: JsonB) -> JsonB {
    let card = compile(&definition.0.to_string()).unwrap_or_else(|e| definition_error(&e));
    JsonB(serde_json::to_value(card.lint()).expect("a lint serializes"))
}
