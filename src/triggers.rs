//! The row trigger that keeps a loan's score columns current (SPEC §3).
//!
//! `credit.enable_scoring` (src/sql/triggers.sql) attaches it as
//! `BEFORE INSERT OR UPDATE OF <inputs>, scored_at ... FOR EACH ROW` (and
//! `OR DELETE` on a partitioned table, to recognise a row an UPDATE moves
//! to another partition) and
//! passes the whole per-table configuration as trigger arguments, so the
//! trigger reads no session state but the `on_invalid` default (on Citus
//! workers, session settings do not arrive; arguments do):
//!
//! | # | argument |
//! |---|---|
//! | 0, 1 | income and assets columns (of `customers` in layout 2) |
//! | 2, 3 | loan amount and tenor columns |
//! | 4 | scorecard name (of `credit.scorecards`) |
//! | 5 | `customers`, schema-qualified and quoted; empty for layout 1 |
//! | 6, 7 | the target's column referencing customers, and customers' key |
//! | 8 | `on_invalid` override (`flag`, `reject`, or empty: the setting) |
//!
//! History and alerts are written once per statement by the AFTER
//! STATEMENT triggers (`credit.record_scores`), from transition tables:
//! a per-row INSERT from here would cost more than the scoring itself.
//! Names are resolved once per statement (the state lives in `fn_extra`),
//! the customers lookup is a prepared plan with a qualified name, so no
//! `search_path` can redirect it.

use credit_core::{Amount, AmountProblem, Application, Decision, Field, InputError, Problem, Scorecard};
use pgrx::pg_sys::{self, Datum};
use pgrx::prelude::*;

use crate::api::{report, text_datum};
use crate::numeric;
use crate::settings::{OnInvalid, ON_INVALID};

/// Where an input column sits and how to read its type.
#[derive(Clone, Copy)]
struct Column {
    attnum: i32,
    kind: Kind,
}

#[derive(Clone, Copy)]
enum Kind {
    Numeric,
    Int2,
    Int4,
    Int8,
    /// real, double precision: through their cast to numeric (what
    /// `value::numeric` gives, which history records), never their text
    /// (which depends on extra_float_digits).
    Float(crate::recorder::PgFn),
    /// Any other type: through its output function and the text parser.
    Text {
        output: pg_sys::Oid,
    },
}

impl Kind {
    unsafe fn of(typoid: pg_sys::Oid) -> Kind {
        match typoid {
            pg_sys::NUMERICOID => Kind::Numeric,
            pg_sys::INT2OID => Kind::Int2,
            pg_sys::INT4OID => Kind::Int4,
            pg_sys::INT8OID => Kind::Int8,
            pg_sys::FLOAT4OID => Kind::Float(crate::recorder::fmgr::float4_numeric),
            pg_sys::FLOAT8OID => Kind::Float(crate::recorder::fmgr::float8_numeric),
            other => {
                let (mut output, mut varlena) = (pg_sys::InvalidOid, false);
                unsafe { pg_sys::getTypeOutputInfo(other, &mut output, &mut varlena) };
                Kind::Text { output }
            }
        }
    }

    /// A non-null value of this type as an exact amount.
    unsafe fn amount(self, d: Datum, field: Field) -> Result<Amount, InputError> {
        let whole = |v: i64| {
            Amount::from_units(i128::from(v) * 10i128.pow(credit_core::exact::INPUT_SCALE))
                .map_err(|p| InputError::new(field, Problem::Amount(p), &v.to_string()))
        };
        unsafe {
            match self {
                Kind::Numeric => numeric::to_amount(d)
                    .map_err(|p| InputError::new(field, Problem::Amount(p), &numeric::to_text(d))),
                Kind::Int2 => whole(i64::from(d.value() as i16)),
                Kind::Int4 => whole(i64::from(d.value() as i32)),
                Kind::Int8 => whole(d.value() as i64),
                Kind::Float(cast) => {
                    let n = crate::recorder::call1(cast, d);
                    numeric::to_amount(n)
                        .map_err(|p| InputError::new(field, Problem::Amount(p), &numeric::to_text(n)))
                }
                Kind::Text { output } => {
                    let text = output_text(output, d);
                    text.parse::<Amount>().map_err(|p| InputError::new(field, Problem::Amount(p), &text))
                }
            }
        }
    }

    /// A non-null value of this type as a tenor in months.
    unsafe fn months(self, d: Datum) -> Result<i32, InputError> {
        let bad = |p: Problem, text: &str| InputError::new(Field::TenorMonths, p, text);
        let whole: i64 = unsafe {
            match self {
                Kind::Int2 => i64::from(d.value() as i16),
                Kind::Int4 => i64::from(d.value() as i32),
                Kind::Int8 => d.value() as i64,
                Kind::Numeric | Kind::Float(_) | Kind::Text { .. } => {
                    match self.amount(d, Field::TenorMonths) {
                        Ok(a) => {
                            let one = 10i128.pow(credit_core::exact::INPUT_SCALE);
                            if a.units() % one != 0 {
                                return Err(bad(Problem::NotWholeMonths, &a.to_string()));
                            }
                            (a.units() / one) as i64
                        }
                        Err(e) if e.problem == Problem::Amount(AmountProblem::Negative) => {
                            return Err(bad(Problem::TenorBelowOne, &e.value));
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
        };
        if whole < 1 {
            return Err(bad(Problem::TenorBelowOne, &whole.to_string()));
        }
        i32::try_from(whole).map_err(|_| bad(Problem::Amount(AmountProblem::OutOfRange), &whole.to_string()))
    }
}

unsafe fn output_text(output: pg_sys::Oid, d: Datum) -> String {
    unsafe {
        let c = pg_sys::OidOutputFunctionCall(output, d);
        std::ffi::CStr::from_ptr(c).to_string_lossy().into_owned()
    }
}

/// Layout 2: income and assets come from the customer the row references.
struct CustomerLookup {
    reference: Column,
    /// Prepared on the first look-up, not per statement: a DELETE (on a
    /// partitioned table the trigger fires for it) needs none.
    plans: std::cell::OnceCell<CustomerPlans>,
    /// What preparing them needs: the scored table, its name, the trigger's
    /// customers, income, assets and key arguments.
    relid: pg_sys::Oid,
    reference_type: pg_sys::Oid,
    table: String,
    args: [String; 4],
}

struct CustomerPlans {
    /// FOR SHARE: for a new loan, or one moved to another customer.
    plan: pg_sys::SPIPlanPtr,
    /// FOR KEY SHARE: for a loan that stays with its customer. It does not
    /// wait for a concurrent change of that customer, whose own rescoring
    /// waits for this loan and rescores it after; waiting both ways was a
    /// deadlock (tests/reliability found it under pgbench).
    key_share_plan: pg_sys::SPIPlanPtr,
    /// The lookup runs as the customers table's owner, as PostgreSQL's own
    /// foreign-key triggers do: a role that may write loans but only read
    /// customers still gets its loans scored (FOR SHARE needs more than
    /// SELECT), and no role gains a read it could not already do through
    /// the trigger (it runs only the look-up enable_scoring configured).
    owner: pg_sys::Oid,
}

impl CustomerLookup {
    /// The look-up's plans, prepared on first use.
    unsafe fn plans(&self) -> &CustomerPlans {
        self.plans.get_or_init(|| unsafe {
            // The look-up runs as the customers table's owner, and any
            // table owner may attach this trigger (partitions of a
            // scored table get a clone of it): only the look-up
            // credit.enable_scoring registered for this table is run,
            // by the names the registration has now (so renaming the
            // customers table keeps the loans scored).
            // (Not there while the SQL is still 0.1.0's, before ALTER
            // EXTENSION ... UPDATE: there score_row is not granted to
            // PUBLIC, so whoever attached it was trusted.)
            let installed = Spi::get_one::<bool>(
                "SELECT pg_catalog.to_regprocedure('credit.registered_lookup(pg_catalog.oid)') IS NOT NULL",
            );
            let registered = if installed == Ok(Some(true)) {
                Spi::get_one_with_args::<Vec<String>>(
                    "SELECT credit.registered_lookup($1)",
                    &[self.relid.into()],
                )
            } else {
                Ok(None)
            };
            // customers, its income, assets and key columns. (None: a
            // Citus worker, where the registrations are the
            // coordinator's, which attached this trigger.)
            let [customers, income, assets, key] = match registered {
                Ok(Some(r)) if r.len() == 4 => [&r[0], &r[1], &r[2], &r[3]].map(String::clone),
                Ok(None) => self.args.clone(),
                _ => {
                    ereport!(
                        ERROR,
                        PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
                        format!(
                            "credit_scoring: {} is not scored from {} by credit.enable_scoring",
                            self.table, self.args[0]
                        ),
                        "Attach scoring with credit.enable_scoring(), which configures the customers look-up."
                    );
                }
            };
            // FOR SHARE, not a plain read: a loan written while another
            // transaction changes its customer waits for that change and
            // scores with the committed income (a plain read would use
            // the statement's snapshot and keep a stale score for good;
            // tests/isolation/specs/customer_and_loans.spec).
            // The operator is pinned too: a shadow `=` in the writer's
            // search_path must not pick another customer.
            let prepare = |lock: &str| {
                let query = format!(
                    "SELECT {}, {} FROM {} WHERE {} OPERATOR(pg_catalog.=) $1 FOR {lock}",
                    quote_ident(&income),
                    quote_ident(&assets),
                    customers,
                    quote_ident(&key)
                );
                let cquery = std::ffi::CString::new(query).expect("no NUL in identifiers");
                let mut types = [self.reference_type];
                if pg_sys::SPI_connect() < 0 {
                    config_error("credit_scoring: SPI_connect failed".into());
                }
                let plan = pg_sys::SPI_prepare(cquery.as_ptr(), 1, types.as_mut_ptr());
                if plan.is_null() || pg_sys::SPI_keepplan(plan) != 0 {
                    config_error(format!(
                        "credit_scoring: cannot prepare the customer lookup on {customers}"
                    ));
                }
                pg_sys::SPI_finish();
                plan
            };
            let plan = prepare("SHARE");
            let key_share_plan = prepare("KEY SHARE");
            let owner = table_owner(&customers);
            CustomerPlans { plan, key_share_plan, owner }
        })
    }
}

/// Everything the trigger needs, resolved once per statement.
struct RowTrigger {
    card: &'static Scorecard,
    income: Option<Column>,
    assets: Option<Column>,
    amount: Column,
    tenor: Column,
    customers: Option<CustomerLookup>,
    /// credit_score, default_probability, segment, decision, scored_at.
    outputs: [i32; 5],
    probabilities: Vec<Datum>,
    segments: Vec<Datum>,
    /// approve, review, decline.
    decisions: [Datum; 3],
    on_invalid: Option<OnInvalid>,
    /// The table, and the partitioned table at the top (the table itself
    /// when it is not a partition; looked up when a partition move needs
    /// it, not per statement): a partition move stays within one.
    relid: pg_sys::Oid,
    is_partition: bool,
    /// The row key column (partitioned tables): a moved row keeps its key.
    key: Option<Column>,
    root: std::cell::Cell<Option<pg_sys::Oid>>,
}

impl Drop for RowTrigger {
    fn drop(&mut self) {
        if let Some(c) = self.customers.as_ref().and_then(|c| c.plans.get()) {
            unsafe {
                pg_sys::SPI_freeplan(c.plan);
                pg_sys::SPI_freeplan(c.key_share_plan);
            }
        }
    }
}

fn config_error(message: String) -> ! {
    ereport!(ERROR, PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, message);
}

pub(crate) unsafe fn column(tupdesc: pg_sys::TupleDesc, name: &str, table: &str) -> (i32, pg_sys::Oid) {
    unsafe {
        for i in 0..(*tupdesc).natts as usize {
            let att = (*tupdesc).attrs.as_ptr().add(i);
            if (*att).attisdropped {
                continue;
            }
            let attname = std::ffi::CStr::from_ptr((*att).attname.data.as_ptr());
            if attname.to_bytes() == name.as_bytes() {
                return ((*att).attnum as i32, (*att).atttypid);
            }
        }
    }
    config_error(format!("credit_scoring: column \"{name}\" does not exist in {table}"));
}

impl RowTrigger {
    unsafe fn get<'a>(fcinfo: pg_sys::FunctionCallInfo, td: *mut pg_sys::TriggerData) -> &'a RowTrigger {
        unsafe { crate::fn_extra::state(fcinfo, || RowTrigger::new(td)) }
    }

    unsafe fn new(td: *mut pg_sys::TriggerData) -> RowTrigger {
        unsafe {
            let trigger = (*td).tg_trigger;
            let args: Vec<String> = (0..(*trigger).tgnargs as usize)
                .map(|i| std::ffi::CStr::from_ptr(*(*trigger).tgargs.add(i)).to_string_lossy().into_owned())
                .collect();
            // The 10th, the row key column, only on partitioned tables.
            if args.len() != 9 && args.len() != 10 {
                config_error(format!(
                    "credit_scoring: the scoring trigger takes 9 or 10 arguments, got {}; attach it with credit.enable_scoring()",
                    args.len()
                ));
            }
            let rel = (*td).tg_relation;
            let tupdesc = (*rel).rd_att;
            let table = std::ffi::CStr::from_ptr((*(*rel).rd_rel).relname.data.as_ptr())
                .to_string_lossy()
                .into_owned();
            let input = |name: &str| {
                let (attnum, typoid) = column(tupdesc, name, &table);
                Column { attnum, kind: Kind::of(typoid) }
            };
            let card = crate::scorecards::named(&args[4]);
            let (income, assets, customers) = if args[5].is_empty() {
                (Some(input(&args[0])), Some(input(&args[1])), None)
            } else {
                let (attnum, reference_type) = column(tupdesc, &args[6], &table);
                let reference = Column { attnum, kind: Kind::of(reference_type) };
                let lookup = CustomerLookup {
                    reference,
                    reference_type,
                    plans: std::cell::OnceCell::new(),
                    relid: (*rel).rd_id,
                    table: table.clone(),
                    args: [&args[5], &args[0], &args[1], &args[7]].map(String::clone),
                };
                (None, None, Some(lookup))
            };
            let output = |name: &str, typoid: pg_sys::Oid, sql: &str| {
                let (attnum, actual) = column(tupdesc, name, &table);
                if actual != typoid {
                    config_error(format!("credit_scoring: column {table}.{name} must be of type {sql}"));
                }
                attnum
            };
            let key = args.get(9).filter(|k| !k.is_empty()).map(|k| input(k));
            RowTrigger {
                key,
                relid: (*rel).rd_id,
                is_partition: (*(*rel).rd_rel).relispartition,
                root: std::cell::Cell::new(None),
                card,
                income,
                assets,
                amount: input(&args[2]),
                tenor: input(&args[3]),
                customers,
                outputs: [
                    output("credit_score", pg_sys::INT4OID, "integer"),
                    output("default_probability", pg_sys::NUMERICOID, "numeric"),
                    output("segment", pg_sys::TEXTOID, "text"),
                    output("decision", pg_sys::TEXTOID, "text"),
                    output("scored_at", pg_sys::TIMESTAMPTZOID, "timestamp with time zone"),
                ],
                decisions: Decision::ALL.map(|d| text_datum(d.name())),
                probabilities: card.probabilities.iter().map(|p| numeric::from_fixed((*p).into())).collect(),
                segments: card.segment_names.iter().map(|s| text_datum(s)).collect(),
                on_invalid: match args[8].as_str() {
                    "flag" => Some(OnInvalid::Flag),
                    "reject" => Some(OnInvalid::Reject),
                    _ => None,
                },
            }
        }
    }

    /// The application in this row, or why it cannot be scored.
    /// `same_customer`: an UPDATE that keeps the row's customer (the
    /// lookup may then take the weaker lock).
    unsafe fn application(
        &self,
        tuple: pg_sys::HeapTuple,
        tupdesc: pg_sys::TupleDesc,
        same_customer: bool,
    ) -> Result<Application, InputError> {
        unsafe {
            let get = |c: Column| {
                let mut isnull = false;
                let d = pg_sys::heap_getattr(tuple, c.attnum, tupdesc, &mut isnull);
                (!isnull).then_some(d)
            };
            // NULL income or assets count as 0, as the old service did.
            let (income, assets) = match &self.customers {
                None => {
                    let read = |c: Option<Column>, f: Field| match c.and_then(get) {
                        Some(d) => c.expect("column").kind.amount(d, f),
                        None => Ok(Amount::ZERO),
                    };
                    (read(self.income, Field::MonthlyIncome)?, read(self.assets, Field::Assets)?)
                }
                Some(lookup) => match get(lookup.reference) {
                    None => (Amount::ZERO, Amount::ZERO),
                    Some(key) => self.customer(lookup, key, same_customer)?,
                },
            };
            let loan_amount = match get(self.amount) {
                Some(d) => self.amount.kind.amount(d, Field::LoanAmount)?,
                None => return Err(InputError::new(Field::LoanAmount, Problem::Missing, "NULL")),
            };
            let tenor_months = match get(self.tenor) {
                Some(d) => self.tenor.kind.months(d)?,
                None => return Err(InputError::new(Field::TenorMonths, Problem::Missing, "NULL")),
            };
            Application::new(income, assets, loan_amount, tenor_months)
        }
    }

    /// Income and assets of the referenced customer (0 when NULL; a missing
    /// customer counts as no income and no assets).
    unsafe fn customer(
        &self,
        lookup: &CustomerLookup,
        key: Datum,
        same_customer: bool,
    ) -> Result<(Amount, Amount), InputError> {
        unsafe {
            let plans = lookup.plans();
            if pg_sys::SPI_connect() < 0 {
                config_error("credit_scoring: SPI_connect failed".into());
            }
            let mut args = [key];
            // read_only = false: a fresh snapshot, as the row lock needs.
            let plan = if same_customer { plans.key_share_plan } else { plans.plan };
            let rc = as_owner(plans.owner, || {
                pg_sys::SPI_execute_plan(plan, args.as_mut_ptr(), std::ptr::null(), false, 1)
            });
            let result = if rc == pg_sys::SPI_OK_SELECT as i32 && pg_sys::SPI_processed == 1 {
                let table = pg_sys::SPI_tuptable;
                let (tuple, tupdesc) = (*(*table).vals, (*table).tupdesc);
                let read = |i: i32, field: Field| {
                    let mut isnull = false;
                    let d = pg_sys::SPI_getbinval(tuple, tupdesc, i, &mut isnull);
                    if isnull {
                        Ok(Amount::ZERO)
                    } else {
                        Kind::of(pg_sys::SPI_gettypeid(tupdesc, i)).amount(d, field)
                    }
                };
                read(1, Field::MonthlyIncome).and_then(|i| Ok((i, read(2, Field::Assets)?)))
            } else {
                Ok((Amount::ZERO, Amount::ZERO))
            };
            pg_sys::SPI_finish();
            result
        }
    }
}

/// Runs `f` as `owner`, as PostgreSQL's foreign-key triggers run their
/// queries as a table's owner (and, as there, FORCE ROW LEVEL SECURITY
/// does not apply to that owner).
/// On an error, transaction or subtransaction abort restores the user.
unsafe fn as_owner<T>(owner: pg_sys::Oid, f: impl FnOnce() -> T) -> T {
    unsafe {
        let (mut user, mut context) = (pg_sys::InvalidOid, 0);
        pg_sys::GetUserIdAndSecContext(&mut user, &mut context);
        pg_sys::SetUserIdAndSecContext(
            owner,
            context | (pg_sys::SECURITY_LOCAL_USERID_CHANGE | pg_sys::SECURITY_NOFORCE_RLS) as i32,
        );
        let result = f();
        pg_sys::SetUserIdAndSecContext(user, context);
        result
    }
}

/// The owner of a relation given by its (qualified, quoted) name.
unsafe fn table_owner(name: &str) -> pg_sys::Oid {
    let owner = Spi::get_one_with_args::<pg_sys::Oid>(
        "SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass($1)",
        &[name.into()],
    );
    match owner {
        Ok(Some(o)) => o,
        _ => config_error(format!("credit_scoring: table {name} does not exist")),
    }
}

/// datumIsEqual: the same stored value (varlenas compared by contents,
/// whatever their header).
unsafe fn same_datum(a: Datum, b: Datum, byval: bool, len: i16) -> bool {
    unsafe {
        if byval {
            a == b
        } else if len == -1 {
            crate::tuple::payload(numeric::detoasted(a)) == crate::tuple::payload(numeric::detoasted(b))
        } else if len > 0 {
            let n = len as usize;
            std::slice::from_raw_parts(a.cast_mut_ptr::<u8>(), n)
                == std::slice::from_raw_parts(b.cast_mut_ptr::<u8>(), n)
        } else {
            // cstring columns (len -2): compare as C strings
            std::ffi::CStr::from_ptr(a.cast_mut_ptr()) == std::ffi::CStr::from_ptr(b.cast_mut_ptr())
        }
    }
}

unsafe fn column_is_null(tuple: pg_sys::HeapTuple, attnum: i32, tupdesc: pg_sys::TupleDesc) -> bool {
    let mut isnull = false;
    unsafe { pg_sys::heap_getattr(tuple, attnum, tupdesc, &mut isnull) };
    isnull
}

impl RowTrigger {
    /// Does the new row differ from the old one in any input column (the
    /// customer reference, in layout 2)? Compared as stored (datumIsEqual).
    unsafe fn inputs_changed(
        &self,
        old: pg_sys::HeapTuple,
        new: pg_sys::HeapTuple,
        tupdesc: pg_sys::TupleDesc,
    ) -> bool {
        let columns: Vec<Column> = [
            self.income,
            self.assets,
            Some(self.amount),
            Some(self.tenor),
            self.customers.as_ref().map(|c| c.reference),
        ]
        .into_iter()
        .flatten()
        .collect();
        unsafe { columns_differ(&columns, old, new, tupdesc) }
    }
}

/// The row of a partition move in flight: the command that deleted it, the
/// scored table it belongs to, and what it held (see `score_row`). One
/// backend runs one row at a time.
type Moving = ((u32, u32, pg_sys::Oid), Vec<Option<Vec<u8>>>);

thread_local! {
    static MOVING: std::cell::RefCell<Option<Moving>> = const { std::cell::RefCell::new(None) };
}

/// This transaction (local id, never reused while the backend lives),
/// command and scored table.
unsafe fn this_command(root: pg_sys::Oid) -> (u32, u32, pg_sys::Oid) {
    unsafe {
        #[cfg(any(feature = "pg13", feature = "pg14", feature = "pg15", feature = "pg16"))]
        let lxid = (*pg_sys::MyProc).lxid;
        #[cfg(any(feature = "pg17", feature = "pg18"))]
        let lxid = (*pg_sys::MyProc).vxid.lxid;
        (lxid, pg_sys::GetCurrentCommandId(false), root)
    }
}

impl RowTrigger {
    fn root(&self) -> pg_sys::Oid {
        if let Some(root) = self.root.get() {
            return root;
        }
        let root = if self.is_partition {
            Spi::get_one_with_args::<pg_sys::Oid>(
                "SELECT pg_catalog.pg_partition_root($1)",
                &[self.relid.into()],
            )
            .ok()
            .flatten()
            .unwrap_or(self.relid)
        } else {
            self.relid
        };
        self.root.set(Some(root));
        root
    }

    /// The row's key, inputs (the customer reference, in layout 2) and
    /// score columns, as stored (varlenas by contents): what a partition
    /// move must carry over unchanged for the row to keep its scoring.
    unsafe fn fingerprint(
        &self,
        tuple: pg_sys::HeapTuple,
        tupdesc: pg_sys::TupleDesc,
    ) -> Vec<Option<Vec<u8>>> {
        let inputs = [self.income, self.assets, Some(self.amount), Some(self.tenor)]
            .into_iter()
            .chain([self.customers.as_ref().map(|c| c.reference), self.key])
            .flatten()
            .map(|c| c.attnum);
        inputs
            .chain(self.outputs)
            .map(|attnum| unsafe {
                let mut isnull = false;
                let d = pg_sys::heap_getattr(tuple, attnum, tupdesc, &mut isnull);
                if isnull {
                    return None;
                }
                let att = (*tupdesc).attrs.as_ptr().add(attnum as usize - 1);
                Some(if (*att).attbyval {
                    d.value().to_ne_bytes().to_vec()
                } else if (*att).attlen == -1 {
                    crate::tuple::payload(numeric::detoasted(d)).to_vec()
                } else if (*att).attlen > 0 {
                    std::slice::from_raw_parts(d.cast_mut_ptr::<u8>(), (*att).attlen as usize).to_vec()
                } else {
                    std::ffi::CStr::from_ptr(d.cast_mut_ptr()).to_bytes().to_vec()
                })
            })
            .collect()
    }
}

/// Does any of these columns differ between the two rows? Compared as
/// stored (datumIsEqual).
unsafe fn columns_differ(
    columns: &[Column],
    old: pg_sys::HeapTuple,
    new: pg_sys::HeapTuple,
    tupdesc: pg_sys::TupleDesc,
) -> bool {
    columns.iter().any(|c| unsafe {
        let (mut old_null, mut new_null) = (false, false);
        let a = pg_sys::heap_getattr(old, c.attnum, tupdesc, &mut old_null);
        let b = pg_sys::heap_getattr(new, c.attnum, tupdesc, &mut new_null);
        if old_null || new_null {
            return old_null != new_null;
        }
        let att = (*tupdesc).attrs.as_ptr().add(c.attnum as usize - 1);
        !same_datum(a, b, (*att).attbyval, (*att).attlen)
    })
}

pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The trigger call's data; an error when the function was not called as
/// a trigger.
///
/// # Safety
/// `fcinfo` is a valid call's.
pub(crate) unsafe fn trigger_data(
    fcinfo: pg_sys::FunctionCallInfo,
    function: &str,
) -> *mut pg_sys::TriggerData {
    unsafe {
        let context = (*fcinfo).context;
        if context.is_null() || (*context).type_ != pg_sys::NodeTag::T_TriggerData {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                format!("{function} must be called as a trigger")
            );
        }
        context as *mut pg_sys::TriggerData
    }
}

function_info_v1!(pg_finfo_credit_score_row);
/// `credit.score_row()`: BEFORE INSERT OR UPDATE ... FOR EACH ROW.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn credit_score_row(fcinfo: pg_sys::FunctionCallInfo) -> Datum {
    unsafe { pg_sys::submodules::panic::pgrx_extern_c_guard(|| score_row(fcinfo)) }
}

unsafe fn score_row(fcinfo: pg_sys::FunctionCallInfo) -> Datum {
    unsafe {
        let td = trigger_data(fcinfo, "credit.score_row()");
        let event = (*td).tg_event;
        let op = event & pg_sys::TRIGGER_EVENT_OPMASK;
        if event & pg_sys::TRIGGER_EVENT_ROW == 0
            || event & pg_sys::TRIGGER_EVENT_TIMINGMASK != pg_sys::TRIGGER_EVENT_BEFORE
            || op == pg_sys::TRIGGER_EVENT_TRUNCATE
        {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                "credit.score_row() must fire BEFORE INSERT OR UPDATE (OR DELETE) FOR EACH ROW"
            );
        }
        let tuple = if op == pg_sys::TRIGGER_EVENT_UPDATE { (*td).tg_newtuple } else { (*td).tg_trigtuple };
        let tupdesc = (*(*td).tg_relation).rd_att;
        let state = RowTrigger::get(fcinfo, td);

        // An UPDATE that moves a row to another partition is run as a
        // DELETE from the old one, then an INSERT into the new one, with no
        // other row in between: the row trigger fires BEFORE DELETE on
        // partitioned tables (enable_scoring) to recognise the INSERT that
        // follows. A row that arrives with the inputs and the scoring the
        // deleted row had keeps them: the move did not rescore it.
        if op == pg_sys::TRIGGER_EVENT_DELETE {
            let fingerprint = state.fingerprint(tuple, tupdesc);
            MOVING.with(|m| m.replace(Some((this_command(state.root()), fingerprint))));
            return Datum::from(tuple);
        }
        if op == pg_sys::TRIGGER_EVENT_INSERT {
            let moving = MOVING.with(|m| m.take());
            let moved = moving.is_some_and(|(command, fingerprint)| {
                command == this_command(state.root())
                    && !column_is_null(tuple, state.outputs[4], tupdesc)
                    && fingerprint == state.fingerprint(tuple, tupdesc)
            });
            if moved {
                // Layout 2: lock the customer as for a new loan (FOR
                // SHARE), so a concurrent change of that customer waits
                // for this move and then rescores the moved loan, instead
                // of finding it gone from its partition (40001).
                if let Some(lookup) = &state.customers {
                    let mut isnull = false;
                    let key = pg_sys::heap_getattr(tuple, lookup.reference.attnum, tupdesc, &mut isnull);
                    if !isnull {
                        let _ = state.customer(lookup, key, false);
                    }
                }
                return Datum::from(tuple);
            }
        }

        let mut values = [Datum::from(0); 5];
        let mut nulls = [true; 5];
        // An UPDATE that changes no input (say, one that writes a score
        // column) is rescored, so no written score survives, but keeps its
        // scored_at: nothing was scored anew, and history records nothing.
        // Setting scored_at to NULL asks for a fresh scoring.
        let keep_scored_at = op == pg_sys::TRIGGER_EVENT_UPDATE
            && !state.inputs_changed((*td).tg_trigtuple, tuple, tupdesc)
            && !column_is_null(tuple, state.outputs[4], tupdesc);
        let same_customer = op == pg_sys::TRIGGER_EVENT_UPDATE
            && state
                .customers
                .as_ref()
                .is_some_and(|c| !columns_differ(&[c.reference], (*td).tg_trigtuple, tuple, tupdesc));
        match state.application(tuple, tupdesc, same_customer) {
            Ok(app) => {
                let a = state.card.evaluate(&app);
                values[0] = Datum::from(a.credit_score);
                values[1] = state.probabilities[a.default_probability as usize];
                values[2] = state.segments[a.segment as usize];
                values[3] = state.decisions[a.decision as usize];
                nulls[..4].fill(false);
            }
            Err(e) => {
                if state.on_invalid.unwrap_or_else(|| ON_INVALID.get()) == OnInvalid::Reject {
                    report(&e);
                }
                // flag: the write goes ahead unscored; the statement
                // trigger records the invalid_input alert with the reason.
            }
        }
        // clock_timestamp(), not now(): every rescoring gets its own
        // scored_at, which is how the statement trigger tells rescored
        // rows from rows an unrelated UPDATE touched.
        let mut old_null = true;
        let old_scored_at =
            pg_sys::heap_getattr((*td).tg_trigtuple, state.outputs[4], tupdesc, &mut old_null);
        if keep_scored_at && !old_null {
            values[4] = old_scored_at;
        } else {
            values[4] = Datum::from(pg_sys::GetCurrentTimestamp());
        }
        nulls[4] = false;
        let mut cols = state.outputs;
        let modified = pg_sys::heap_modify_tuple_by_cols(
            tuple,
            tupdesc,
            5,
            cols.as_mut_ptr(),
            values.as_mut_ptr(),
            nulls.as_mut_ptr(),
        );
        Datum::from(modified)
    }
}

/// `credit.validate_row(income, assets, amount, tenor numeric)`: why the
/// scoring trigger could not score a row with these values, in its own
/// words (NULL income or assets count as 0; NULL amount or tenor are
/// missing; a tenor must be a whole number of months). NULL when valid.
/// The statement trigger uses it for the `invalid_input` alert's reason.
#[pg_extern(immutable, parallel_safe)]
fn validate_row(
    monthly_income: Option<pgrx::AnyNumeric>,
    assets: Option<pgrx::AnyNumeric>,
    loan_amount: Option<pgrx::AnyNumeric>,
    tenor_months: Option<pgrx::AnyNumeric>,
) -> Option<String> {
    use pgrx::datum::IntoDatum;
    let datum = |v: Option<pgrx::AnyNumeric>| v.and_then(|n| n.into_datum());
    unsafe { why_invalid(datum(monthly_income), datum(assets), datum(loan_amount), datum(tenor_months)) }
}

extension_sql!(
    r#"
COMMENT ON FUNCTION credit.validate_row(numeric, numeric, numeric, numeric) IS
    'Why the scoring trigger cannot score a row with these values (NULL income or assets count as 0), in the words of the invalid_input alert; NULL when it can';
"#,
    name = "validate_row_comment",
    requires = [validate_row]
);

/// Why the scoring trigger could not score these `numeric` values (NULL
/// income or assets count as 0); None when it can. `validate_row` and the
/// statement trigger's `invalid_input` alerts say it in these words.
///
/// # Safety
/// Every datum is a valid `numeric`.
pub(crate) unsafe fn why_invalid(
    monthly_income: Option<Datum>,
    assets: Option<Datum>,
    loan_amount: Option<Datum>,
    tenor_months: Option<Datum>,
) -> Option<String> {
    let amount = |d: Option<Datum>, field: Field| -> Result<Amount, InputError> {
        match d {
            Some(d) => unsafe { Kind::Numeric.amount(d, field) },
            None if field == Field::LoanAmount => Err(InputError::new(field, Problem::Missing, "NULL")),
            None => Ok(Amount::ZERO),
        }
    };
    let checked = (|| {
        let income = amount(monthly_income, Field::MonthlyIncome)?;
        let assets = amount(assets, Field::Assets)?;
        let loan = amount(loan_amount, Field::LoanAmount)?;
        let tenor = match tenor_months {
            Some(d) => unsafe { Kind::Numeric.months(d)? },
            None => return Err(InputError::new(Field::TenorMonths, Problem::Missing, "NULL")),
        };
        Application::new(income, assets, loan, tenor)
    })();
    checked.err().map(|e| e.to_string())
}

function_info_v1!(pg_finfo_credit_run_as_owner);
/// `credit.run_as_owner(target regclass, query text, keys anyarray) →
/// bigint`: runs one statement (`$1` is `keys`) as the owner of `target`,
/// as PostgreSQL's foreign-key triggers run theirs. The extension's
/// SECURITY DEFINER trigger functions write application tables through it
/// (rescoring a customer's loans, scoring an attached partition), so the
/// table owner's own triggers fire as that owner, never as the extension's
/// superuser. Not granted to PUBLIC. Returns the rows processed.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn credit_run_as_owner(fcinfo: pg_sys::FunctionCallInfo) -> Datum {
    unsafe { pg_sys::submodules::panic::pgrx_extern_c_guard(|| run_as_owner(fcinfo)) }
}

unsafe fn run_as_owner(fcinfo: pg_sys::FunctionCallInfo) -> Datum {
    unsafe {
        let args = (*fcinfo).args.as_slice(3);
        if args[0].isnull || args[1].isnull {
            (*fcinfo).isnull = true;
            return Datum::from(0);
        }
        let relid = pg_sys::Oid::from(args[0].value.value() as u32);
        let query = pg_sys::text_to_cstring(args[1].value.cast_mut_ptr());
        let keys_type = pg_sys::get_fn_expr_argtype((*fcinfo).flinfo, 2);
        let rel = pg_sys::try_relation_open(relid, pg_sys::AccessShareLock as i32);
        if rel.is_null() {
            config_error(format!("credit_scoring: relation with OID {} does not exist", u32::from(relid)));
        }
        let owner = (*(*rel).rd_rel).relowner;
        pg_sys::relation_close(rel, pg_sys::NoLock as i32);

        if pg_sys::SPI_connect() < 0 {
            config_error("credit_scoring: SPI_connect failed".into());
        }
        let mut types = [keys_type];
        let mut values = [args[2].value];
        let nulls = if args[2].isnull { c"n" } else { c" " };
        let rc = as_owner(owner, || {
            pg_sys::SPI_execute_with_args(
                query,
                1,
                types.as_mut_ptr(),
                values.as_mut_ptr(),
                nulls.as_ptr(),
                false,
                0,
            )
        });
        let processed = pg_sys::SPI_processed;
        pg_sys::SPI_finish();
        if rc < 0 {
            config_error(format!("credit_scoring: run_as_owner failed ({rc})"));
        }
        Datum::from(processed as i64)
    }
}
