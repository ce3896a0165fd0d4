//! Per-call-site state in `flinfo->fn_extra`, the fmgr way to keep what a
//! function resolves once per query (descriptors, prebuilt values, plans):
//! a Rust value boxed on first call and dropped when the call site's memory
//! context goes (pg_jsonschema's callsite cache is the model).

use pgrx::pg_sys;

/// The state of this call site, made by `make` on the first call (in
/// `fn_mcxt`, so what it pallocs lives as long as the call site).
///
/// # Safety
/// `fcinfo` is a valid call's; every call site of one function keeps the
/// same `T` in `fn_extra`.
pub unsafe fn state<'a, T>(fcinfo: pg_sys::FunctionCallInfo, make: impl FnOnce() -> T) -> &'a mut T {
    unsafe {
        let flinfo = (*fcinfo).flinfo;
        if (*flinfo).fn_extra.is_null() {
            let old = pg_sys::MemoryContextSwitchTo((*flinfo).fn_mcxt);
            let value = make();
            pg_sys::MemoryContextSwitchTo(old);
            let ptr = Box::into_raw(Box::new(value));
            let callback =
                pg_sys::MemoryContextAlloc((*flinfo).fn_mcxt, size_of::<pg_sys::MemoryContextCallback>())
                    as *mut pg_sys::MemoryContextCallback;
            (*callback).func = Some(drop_state::<T>);
            (*callback).arg = ptr.cast();
            pg_sys::MemoryContextRegisterResetCallback((*flinfo).fn_mcxt, callback);
            (*flinfo).fn_extra = ptr.cast();
        }
        &mut *((*flinfo).fn_extra as *mut T)
    }
}

unsafe extern "C-unwind" fn drop_state<T>(arg: *mut std::ffi::c_void) {
    // SAFETY: `arg` is the Box made in `state`, dropped only here.
    drop(unsafe { Box::from_raw(arg as *mut T) });
}
