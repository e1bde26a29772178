//! The launch entry points of compiled host code, for every GPU vendor.
//!
//! The compiler lowers a JIT function's host side (sequential loops and
//! `gpu.launch_func`) to native code that calls the `mgpu*` functions MLIR's
//! GPU-to-LLVM translation emits. They are implemented here, on this
//! runtime's devices and streams, and bound by name when the host code is
//! JIT-compiled ([`symbols`]).
//!
//! The device and stream of a launch are not in the compiled code: the
//! caller chooses them for the duration of a call with [`LaunchScope::run`]
//! (the task's GPU and stream inside a Parla GPU task, the arrays' GPU
//! otherwise). So one compiled function serves every GPU, and its modules
//! are loaded onto a device the first time it launches there: PTX by the
//! CUDA driver, AMD code objects by HIP (`rocm` feature).
//!
//! A C entry point cannot return an error, and unwinding out of one aborts:
//! the first failure of a scope is kept, later launches of that scope are
//! skipped, and [`LaunchScope::run`] returns it.

use crate::cuda::{self, GpuDevice, GpuKernel, GpuModule};
use crate::gpu::{GpuError, LaunchShape, PerDevice};
#[cfg(feature = "rocm")]
use crate::hip::{self, HipDevice, HipKernel, HipModule};
use std::cell::RefCell;
use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::Mutex;

/// Where the launches of the current call go.
#[derive(Clone, Copy)]
pub enum LaunchScope {
    /// An NVIDIA GPU and a stream of its context (null: the legacy default
    /// stream).
    Cuda {
        device: &'static GpuDevice,
        stream: cuda::RawStream,
    },
    /// An AMD GPU and one of its streams (null: its null stream).
    #[cfg(feature = "rocm")]
    Hip {
        device: &'static HipDevice,
        stream: hip::RawStream,
    },
}

struct ThreadState {
    scope: Option<LaunchScope>,
    error: Option<GpuError>,
    launches: usize,
}

thread_local! {
    static STATE: RefCell<ThreadState> = const {
        RefCell::new(ThreadState { scope: None, error: None, launches: 0 })
    };
}

/// What a scope did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchReport {
    /// Kernels launched (queued on the stream).
    pub launches: usize,
}

impl LaunchScope {
    /// Runs `f` (which calls compiled host code) with its launches going to
    /// this scope's device and stream. Returns `f`'s result and the first
    /// launch failure, if any. Scopes nest: the outer one is restored.
    pub fn run<R>(self, f: impl FnOnce() -> R) -> (R, Result<LaunchReport, GpuError>) {
        let (result, error, launches) = scoped(Some(self), f);
        (result, error.map_or(Ok(LaunchReport { launches }), Err))
    }

    fn stream(self) -> *mut c_void {
        match self {
            LaunchScope::Cuda { stream, .. } => stream.cast(),
            #[cfg(feature = "rocm")]
            LaunchScope::Hip { stream, .. } => stream.cast(),
        }
    }
}

/// Runs `f` with no scope: launches fail with a clear error (for tests of
/// compiled host code on machines without a GPU).
pub fn without_scope<R>(f: impl FnOnce() -> R) -> (R, Option<GpuError>) {
    let (result, error, _) = scoped(None, f);
    (result, error)
}

/// Runs `f` under `scope`, then restores the thread's state: `f`'s result,
/// the first launch failure and the number of launches.
fn scoped<R>(scope: Option<LaunchScope>, f: impl FnOnce() -> R) -> (R, Option<GpuError>, usize) {
    let fresh = ThreadState {
        scope,
        error: None,
        launches: 0,
    };
    let saved = STATE.with(|s| s.replace(fresh));
    let result = f();
    let ours = STATE.with(|s| s.replace(saved));
    (result, ours.error, ours.launches)
}

fn fail(error: GpuError) {
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        if s.error.is_none() {
            s.error = Some(error);
        }
    });
}

/// A module of device code as the compiled host code knows it: the image
/// (owned by the compiled code: PTX text, NUL-terminated, or a binary of
/// known size) and what has been loaded from it, per device.
struct LazyModule {
    image: *const c_char,
    /// The image's size in bytes; `None` for NUL-terminated text.
    size: Option<usize>,
    loaded: PerDevice<GpuModule>,
    #[cfg(feature = "rocm")]
    loaded_hip: PerDevice<HipModule>,
    // Boxed: handles given out point into the boxes, which must not move
    // when the list grows.
    #[allow(clippy::vec_box)]
    kernels: Mutex<Vec<Box<LazyKernel>>>,
}

/// A kernel of a [`LazyModule`], resolved per device on first launch.
struct LazyKernel {
    module: *const LazyModule,
    name: CString,
    resolved: PerDevice<GpuKernel>,
    #[cfg(feature = "rocm")]
    resolved_hip: PerDevice<HipKernel>,
}

impl LazyModule {
    /// The image's bytes.
    fn bytes(&self) -> &[u8] {
        // SAFETY: the image is a constant of the compiled code, which
        // outlives this module (it is unloaded by the code's destructors):
        // NUL-terminated, or of the size the code passed.
        unsafe {
            match self.size {
                Some(size) => std::slice::from_raw_parts(self.image.cast::<u8>(), size),
                None => CStr::from_ptr(self.image).to_bytes(),
            }
        }
    }

    fn module_on(&self, device: &GpuDevice) -> Result<GpuModule, GpuError> {
        self.loaded.get_or_try_insert(device.ordinal, || {
            let text = self.bytes();
            let text = text.strip_suffix(&[0]).unwrap_or(text);
            device.load_ptx(&String::from_utf8_lossy(text))
        })
    }

    #[cfg(feature = "rocm")]
    fn hip_module_on(&self, device: &HipDevice) -> Result<HipModule, GpuError> {
        self.loaded_hip
            .get_or_try_insert(device.ordinal, || device.load_code_object(self.bytes()))
    }
}

impl LazyKernel {
    fn module(&self) -> &LazyModule {
        // SAFETY: kernels are owned by their module, which is alive while
        // the compiled code that launches them is.
        unsafe { &*self.module }
    }

    fn kernel_on(&self, device: &GpuDevice) -> Result<GpuKernel, GpuError> {
        self.resolved.get_or_try_insert(device.ordinal, || {
            self.module()
                .module_on(device)?
                .kernel(&self.name.to_string_lossy())
        })
    }

    #[cfg(feature = "rocm")]
    fn hip_kernel_on(&self, device: &HipDevice) -> Result<HipKernel, GpuError> {
        self.resolved_hip.get_or_try_insert(device.ordinal, || {
            self.module()
                .hip_module_on(device)?
                .kernel(&self.name.to_string_lossy())
        })
    }

    /// Launches this kernel under `scope`.
    ///
    /// # Safety
    /// As [`GpuKernel::launch_on`].
    unsafe fn launch(
        &self,
        scope: LaunchScope,
        shape: LaunchShape,
        arguments: &mut [*mut c_void],
    ) -> Result<(), GpuError> {
        // SAFETY: the caller's contract.
        unsafe {
            match scope {
                LaunchScope::Cuda { device, stream } => self
                    .kernel_on(device)?
                    .launch_on(device, stream, shape, arguments),
                #[cfg(feature = "rocm")]
                LaunchScope::Hip { device, stream } => self
                    .hip_kernel_on(device)?
                    .launch_on(device, stream, shape, arguments),
            }
        }
    }
}

fn lazy_module(image: *const c_char, size: Option<usize>) -> *mut c_void {
    Box::into_raw(Box::new(LazyModule {
        image,
        size,
        loaded: PerDevice::default(),
        #[cfg(feature = "rocm")]
        loaded_hip: PerDevice::default(),
        kernels: Mutex::new(Vec::new()),
    }))
    .cast()
}

/// `mgpuModuleLoadJIT(ptx, optLevel)`: called by the compiled code's
/// constructor for PTX. Loads nothing yet: the device is known only at
/// launch.
unsafe extern "C" fn module_load_jit(image: *const c_char, _opt_level: i32) -> *mut c_void {
    lazy_module(image, None)
}

/// `mgpuModuleLoad(image, size)`: a binary image (AMD code objects).
unsafe extern "C" fn module_load(image: *const c_char, size: usize) -> *mut c_void {
    lazy_module(image, Some(size))
}

/// `mgpuModuleUnload(module)`: called by the compiled code's destructor.
unsafe extern "C" fn module_unload(module: *mut c_void) {
    if !module.is_null() {
        // SAFETY: made by `module_load_jit`, unloaded once.
        drop(unsafe { Box::from_raw(module.cast::<LazyModule>()) });
    }
}

/// `mgpuModuleGetFunction(module, name)`: a handle that stays valid as long
/// as the module (one per name).
unsafe extern "C" fn module_get_function(module: *mut c_void, name: *const c_char) -> *mut c_void {
    // SAFETY: a module from `module_load_jit`; the name is a C string
    // constant of the compiled code.
    let (lazy, name) = unsafe { (&*module.cast::<LazyModule>(), CStr::from_ptr(name)) };
    let mut kernels = lazy.kernels.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = kernels.iter().find(|k| k.name.as_c_str() == name) {
        return (&**found as *const LazyKernel).cast_mut().cast();
    }
    let kernel = Box::new(LazyKernel {
        module: lazy,
        name: name.to_owned(),
        resolved: PerDevice::default(),
        #[cfg(feature = "rocm")]
        resolved_hip: PerDevice::default(),
    });
    let handle = (&*kernel as *const LazyKernel).cast_mut().cast();
    kernels.push(kernel);
    handle
}

/// `mgpuStreamCreate()`: the scope's stream (not a new one).
unsafe extern "C" fn stream_create() -> *mut c_void {
    STATE.with(|s| {
        s.borrow()
            .scope
            .map(LaunchScope::stream)
            .unwrap_or(std::ptr::null_mut())
    })
}

/// `mgpuStreamSynchronize(stream)`: nothing. Launches of one call go to
/// one stream in order, and host code never reads device memory, so the
/// caller waits once, when it needs results on the host (or not at all,
/// for arrays that stay on the GPU).
unsafe extern "C" fn stream_synchronize(_stream: *mut c_void) {}

/// `mgpuStreamDestroy(stream)`: the stream belongs to the scope.
unsafe extern "C" fn stream_destroy(_stream: *mut c_void) {}

/// `mgpuLaunchKernel(function, grid xyz, block xyz, shared bytes, stream,
/// parameters, extra, parameter count)`.
#[allow(clippy::too_many_arguments)] // the ABI
unsafe extern "C" fn launch_kernel(
    function: *mut c_void,
    grid_x: isize,
    grid_y: isize,
    grid_z: isize,
    block_x: isize,
    block_y: isize,
    block_z: isize,
    shared_bytes: i32,
    _stream: *mut c_void,
    parameters: *mut *mut c_void,
    _extra: *mut *mut c_void,
    parameter_count: usize,
) {
    let Some(scope) = live_scope() else { return };
    let dimension = |value: isize, what: &str| -> Result<u32, GpuError> {
        u32::try_from(value).ok().filter(|v| *v > 0).ok_or_else(|| {
            GpuError::Launch(format!(
                "a kernel launch asked for {value} {what}: the extents of parallel loops must be from 1 to 2^32-1"
            ))
        })
    };
    let launched = (|| -> Result<(), GpuError> {
        let shape = LaunchShape {
            grid: (
                dimension(grid_x, "blocks")?,
                dimension(grid_y, "blocks")?,
                dimension(grid_z, "blocks")?,
            ),
            block: (
                dimension(block_x, "threads per block")?,
                dimension(block_y, "threads per block")?,
                dimension(block_z, "threads per block")?,
            ),
            shared_bytes: shared_bytes.max(0) as u32,
        };
        // SAFETY: a handle from `module_get_function`.
        let lazy = unsafe { &*function.cast::<LazyKernel>() };
        let arguments = if parameter_count == 0 {
            &mut [][..]
        } else {
            // SAFETY: the compiled code passes an array of this many
            // pointers to the parameters' values.
            unsafe { std::slice::from_raw_parts_mut(parameters, parameter_count) }
        };
        // SAFETY: the compiled code's arguments match its kernel, and the
        // caller keeps the arrays alive until the stream is done.
        unsafe { lazy.launch(scope, shape, arguments) }
    })();
    match launched {
        Ok(()) => STATE.with(|s| s.borrow_mut().launches += 1),
        Err(error) => fail(error),
    }
}

/// The scope of the current call, unless an earlier failure of the call
/// skips the rest (`None`); no scope at all is that failure.
fn live_scope() -> Option<LaunchScope> {
    let scope = STATE.with(|s| {
        let s = s.borrow();
        if s.error.is_some() {
            None
        } else {
            Some(s.scope)
        }
    })?;
    if scope.is_none() {
        fail(GpuError::Unavailable(
            "compiled GPU code was called with no GPU chosen for its launches".into(),
        ));
    }
    scope
}

/// `mgpuMemAlloc(bytes, stream, host_shared)`: device memory for the locals
/// of `with parir.gpu:` code that several kernels share, on the scope's
/// device, in its stream's order. Null after a failure (which skips the
/// call's later launches).
unsafe extern "C" fn mem_alloc(bytes: u64, _stream: *mut c_void, _host_shared: u8) -> *mut c_void {
    let Some(scope) = live_scope() else {
        return std::ptr::null_mut();
    };
    let bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
    let allocated = match scope {
        // SAFETY: the scope's stream belongs to its device.
        LaunchScope::Cuda { device, stream } => unsafe { device.alloc_in_stream(bytes, stream) },
        #[cfg(feature = "rocm")]
        LaunchScope::Hip { device, .. } => device.alloc(bytes.max(1)).map(hip::HipBuffer::into_raw),
    };
    match allocated {
        Ok(pointer) => pointer as *mut c_void,
        Err(error) => {
            fail(error);
            std::ptr::null_mut()
        }
    }
}

/// `mgpuMemFree(pointer, stream)`: frees what `mem_alloc` gave, after the
/// work queued so far.
unsafe extern "C" fn mem_free(pointer: *mut c_void, _stream: *mut c_void) {
    if pointer.is_null() {
        return;
    }
    // After a failure too: the memory is the call's.
    let Some(scope) = STATE.with(|s| s.borrow().scope) else {
        return;
    };
    let freed = match scope {
        // SAFETY: from `mem_alloc` under this scope; the call's kernels
        // that use it were queued before.
        LaunchScope::Cuda { device, stream } => unsafe {
            device.free_in_stream(pointer as u64, stream)
        },
        #[cfg(feature = "rocm")]
        LaunchScope::Hip { device, .. } => {
            // SAFETY: from `mem_alloc` on this device; hipFree waits for
            // the device's work.
            drop(unsafe { hip::HipBuffer::from_raw(pointer as u64, device.ordinal) });
            Ok(())
        }
    };
    if let Err(error) = freed {
        fail(error);
    }
}

/// The entry points by the names compiled host code calls them.
pub fn symbols() -> Vec<(&'static str, *mut c_void)> {
    vec![
        ("mgpuModuleLoadJIT", module_load_jit as *mut c_void),
        ("mgpuModuleLoad", module_load as *mut c_void),
        ("mgpuModuleUnload", module_unload as *mut c_void),
        ("mgpuModuleGetFunction", module_get_function as *mut c_void),
        ("mgpuStreamCreate", stream_create as *mut c_void),
        ("mgpuStreamSynchronize", stream_synchronize as *mut c_void),
        ("mgpuStreamDestroy", stream_destroy as *mut c_void),
        ("mgpuLaunchKernel", launch_kernel as *mut c_void),
        ("mgpuMemAlloc", mem_alloc as *mut c_void),
        ("mgpuMemFree", mem_free as *mut c_void),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_hand_out_one_handle_per_kernel_name() {
        let ptx = CString::new(".version 8.0\n.target sm_80\n.address_size 64\n").unwrap();
        unsafe {
            let module = module_load_jit(ptx.as_ptr(), 3);
            let a = CString::new("a").unwrap();
            let b = CString::new("b").unwrap();
            let first = module_get_function(module, a.as_ptr());
            assert_eq!(first, module_get_function(module, a.as_ptr()));
            assert_ne!(first, module_get_function(module, b.as_ptr()));
            module_unload(module);
        }
    }

    #[test]
    fn device_memory_with_no_scope_is_an_error_not_a_crash() {
        let ((), error) = without_scope(|| unsafe {
            let pointer = mem_alloc(8, std::ptr::null_mut(), 0);
            assert!(pointer.is_null());
            mem_free(pointer, std::ptr::null_mut());
            // Skipped after the first failure: one error.
            assert!(mem_alloc(8, std::ptr::null_mut(), 0).is_null());
        });
        let error = error.expect("the allocation failed");
        assert!(error.to_string().contains("no GPU chosen"), "{error}");
        assert!(symbols().iter().any(|(name, _)| *name == "mgpuMemAlloc"));
        assert!(symbols().iter().any(|(name, _)| *name == "mgpuMemFree"));
    }

    #[test]
    fn a_launch_with_no_scope_is_an_error_not_a_crash() {
        let ptx = CString::new("").unwrap();
        let ((), error) = without_scope(|| unsafe {
            let module = module_load_jit(ptx.as_ptr(), 3);
            let name = CString::new("k").unwrap();
            let function = module_get_function(module, name.as_ptr());
            assert!(stream_create().is_null());
            for _ in 0..2 {
                launch_kernel(
                    function,
                    1,
                    1,
                    1,
                    32,
                    1,
                    1,
                    0,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    0,
                );
            }
            module_unload(module);
        });
        let error = error.expect("the launch failed");
        assert!(error.to_string().contains("no GPU chosen"), "{error}");
    }
}
