//! NVIDIA GPUs through the CUDA driver, which cudarc loads when it is first
//! used: the project builds and runs on machines without CUDA, where
//! [`cuda`] says why there is no GPU instead of failing.
//!
//! Each device uses its primary context (the one CuPy and Torch use, so
//! their device pointers are valid here), a pool of streams handed out in
//! turn, and modules loaded from PTX text by the driver, which compiles
//! them for the device. Every driver failure becomes a [`GpuError`] with
//! the CUDA error's name; nothing here panics on a driver error. Every call
//! leaves the thread's current context as it found it ([`CurrentContext`]).

use cudarc::driver::{result, sys, CudaContext, CudaEvent, CudaFunction, CudaModule, DriverError};
use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

pub mod nvrtc;

pub use cudarc::driver::CudaStream;

/// The address of `stream`'s driver handle, for code that passes streams
/// around as integers (CuPy, Torch, CUDA array interface).
pub fn stream_address(stream: &CudaStream) -> usize {
    stream.cu_stream() as usize
}

/// Waits for the work queued on `stream`.
pub fn synchronize(stream: &CudaStream) -> Result<(), GpuError> {
    let _current = CurrentContext::save();
    stream
        .synchronize()
        .map_err(|e| GpuError::from_driver("cuStreamSynchronize", e))
}

/// The driver's stream handle (null: the legacy default stream), for
/// streams owned by others (CuPy, Torch).
pub type RawStream = sys::CUstream;

pub use crate::gpu::{GpuError, LaunchShape, PerDevice, STREAMS_PER_DEVICE};

impl GpuError {
    /// The error of driver call `call`.
    pub fn from_driver(call: &'static str, error: DriverError) -> Self {
        let text = |r: Result<&std::ffi::CStr, DriverError>| {
            r.map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|_| format!("CUresult {}", error.0 as i32))
        };
        GpuError::Cuda {
            call,
            name: text(error.error_name()),
            description: crate::gpu::describe_failure(error.0 as i32, text(error.error_string())),
        }
    }
}

/// The calling thread's current context, made current again when dropped.
///
/// The CUDA runtime that CuPy and Torch use takes a thread's current driver
/// context as its current device: a call here that left another GPU's
/// context bound would move their next allocation to that GPU. Every entry
/// point that binds a context (here, or inside cudarc) holds one of these.
#[must_use]
pub struct CurrentContext(sys::CUcontext);

impl CurrentContext {
    pub fn save() -> Self {
        let mut context = std::ptr::null_mut();
        // SAFETY: writes one handle; on failure (no driver initialised)
        // it stays null, and null is restored.
        let _ = unsafe { sys::cuCtxGetCurrent(&mut context) };
        CurrentContext(context)
    }
}

impl Drop for CurrentContext {
    fn drop(&mut self) {
        // SAFETY: a context that was current on this thread (primary
        // contexts are retained for the life of the process), or null.
        let _ = unsafe { sys::cuCtxSetCurrent(self.0) };
    }
}

/// A driver object whose release binds its context (cudarc's modules and
/// functions): released with the thread's current context restored.
struct Restoring<T>(std::mem::ManuallyDrop<T>);

impl<T> Restoring<T> {
    fn new(value: T) -> Self {
        Restoring(std::mem::ManuallyDrop::new(value))
    }
}

impl<T> std::ops::Deref for Restoring<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> Drop for Restoring<T> {
    fn drop(&mut self) {
        let _current = CurrentContext::save();
        // SAFETY: dropped once, here.
        unsafe { std::mem::ManuallyDrop::drop(&mut self.0) };
    }
}

/// The error of a driver older than the stream-ordered allocator.
fn stream_ordered_memory_missing(call: &str) -> GpuError {
    GpuError::Unavailable(format!(
        "this CUDA driver has no {call} (stream-ordered memory needs CUDA 11.2 or newer)"
    ))
}

/// The result of driver call `call` as a [`GpuError`].
fn checked(call: &'static str, result: sys::CUresult) -> Result<(), GpuError> {
    result.result().map_err(|e| GpuError::from_driver(call, e))
}

/// One GPU: its context and stream pool.
pub struct GpuDevice {
    pub ordinal: usize,
    pub name: String,
    /// (major, minor), e.g. (9, 0) for sm_90.
    pub compute_capability: (i32, i32),
    /// Memory in bytes.
    pub memory: u64,
    /// Whether the device has the stream-ordered allocator's memory pools.
    memory_pools: bool,
    context: Arc<CudaContext>,
    streams: Vec<Arc<CudaStream>>,
    next_stream: AtomicUsize,
}

impl std::fmt::Debug for GpuDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuDevice")
            .field("ordinal", &self.ordinal)
            .field("name", &self.name)
            .field("compute_capability", &self.compute_capability)
            .field("memory", &self.memory)
            .finish()
    }
}

/// The GPUs of this machine.
#[derive(Debug)]
pub struct Cuda {
    /// The GPUs set up, in ordinal order. An ordinal the driver reports
    /// may be missing: see `unusable`.
    devices: Vec<GpuDevice>,
    /// GPUs the driver reports that could not be set up (one that another
    /// process holds in exclusive mode, one in a fault), with why: the
    /// others stay usable.
    unusable: Vec<(usize, GpuError)>,
}

static CUDA: OnceLock<Result<Cuda, GpuError>> = OnceLock::new();

/// The GPUs, found on first use; the reason when there are none.
pub fn cuda() -> Result<&'static Cuda, GpuError> {
    CUDA.get_or_init(discover).as_ref().map_err(Clone::clone)
}

fn discover() -> Result<Cuda, GpuError> {
    // SAFETY: only tries to load the driver library.
    if !unsafe { sys::is_culib_present() } {
        return Err(GpuError::Unavailable(
            "the CUDA driver (libcuda.so) was not found on this machine".into(),
        ));
    }
    let count = CudaContext::device_count().map_err(|e| match e.0 {
        sys::CUresult::CUDA_ERROR_NO_DEVICE => {
            GpuError::Unavailable("the CUDA driver reports no GPU".into())
        }
        _ => GpuError::from_driver("cuInit/cuDeviceGetCount", e),
    })?;
    if count <= 0 {
        return Err(GpuError::Unavailable(
            "the CUDA driver reports no GPU".into(),
        ));
    }
    // Retaining contexts and creating streams binds each device in turn.
    let _current = CurrentContext::save();
    let mut devices = Vec::new();
    let mut unusable = Vec::new();
    for ordinal in 0..count as usize {
        match set_up(ordinal) {
            Ok(device) => devices.push(device),
            Err(error) => unusable.push((ordinal, error)),
        }
    }
    if devices.is_empty() {
        // The machine runs as one without GPUs, saying why.
        let reasons: Vec<String> = unusable
            .iter()
            .map(|(ordinal, error)| format!("GPU {ordinal}: {error}"))
            .collect();
        return Err(GpuError::Unavailable(format!(
            "no GPU could be set up ({})",
            reasons.join("; ")
        )));
    }
    Ok(Cuda { devices, unusable })
}

/// GPU `ordinal`'s primary context, properties and stream pool.
fn set_up(ordinal: usize) -> Result<GpuDevice, GpuError> {
    let context = CudaContext::new(ordinal)
        .map_err(|e| GpuError::from_driver("cuDevicePrimaryCtxRetain", e))?;
    let name = context
        .name()
        .map_err(|e| GpuError::from_driver("cuDeviceGetName", e))?;
    let compute_capability = context
        .compute_capability()
        .map_err(|e| GpuError::from_driver("cuDeviceGetAttribute", e))?;
    let memory = context
        .total_mem()
        .map_err(|e| GpuError::from_driver("cuDeviceTotalMem", e))? as u64;
    let memory_pools = context
        .attribute(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED)
        .is_ok_and(|supported| supported != 0);
    let streams = (0..STREAMS_PER_DEVICE)
        .map(|_| context.new_stream())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| GpuError::from_driver("cuStreamCreate", e))?;
    Ok(GpuDevice {
        ordinal,
        name,
        compute_capability,
        memory,
        memory_pools,
        context,
        streams,
        next_stream: AtomicUsize::new(0),
    })
}

impl Cuda {
    /// The GPUs that were set up (those of `unusable` are left out).
    pub fn devices(&self) -> &[GpuDevice] {
        &self.devices
    }

    /// GPU `ordinal` (CUDA's numbering); why not, for one that could not
    /// be set up or does not exist.
    pub fn device(&self, ordinal: usize) -> Result<&GpuDevice, GpuError> {
        if let Some(device) = self.devices.iter().find(|d| d.ordinal == ordinal) {
            return Ok(device);
        }
        if let Some((_, error)) = self.unusable.iter().find(|(o, _)| *o == ordinal) {
            return Err(error.clone());
        }
        Err(GpuError::NoSuchDevice {
            ordinal,
            count: self.devices.len() + self.unusable.len(),
        })
    }

    /// The GPUs the driver reports that could not be set up, with why.
    pub fn unusable(&self) -> &[(usize, GpuError)] {
        &self.unusable
    }
}

/// The GPU that owns device address `pointer`, or None for memory the
/// driver does not know (host memory).
pub fn device_of_pointer(pointer: u64) -> Result<Option<usize>, GpuError> {
    let cuda = cuda()?;
    let mut ordinal: i32 = -1;
    let mut ask = || {
        // SAFETY: writes one int; any address may be asked about.
        unsafe {
            sys::cuPointerGetAttribute(
                (&mut ordinal as *mut i32).cast(),
                sys::CUpointer_attribute::CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL,
                pointer,
            )
        }
    };
    let mut result = ask();
    // Some drivers answer only a thread with a current context (a fresh
    // thread, a CPU task, has none): ask again with the first GPU's bound.
    if result == sys::CUresult::CUDA_ERROR_INVALID_CONTEXT {
        if let Some(first) = cuda.devices().first() {
            let _bound = first.enter()?;
            result = ask();
        }
    }
    match result {
        sys::CUresult::CUDA_SUCCESS if ordinal >= 0 => {
            cuda.device(ordinal as usize)?;
            Ok(Some(ordinal as usize))
        }
        sys::CUresult::CUDA_SUCCESS | sys::CUresult::CUDA_ERROR_INVALID_VALUE => Ok(None),
        other => Err(GpuError::from_driver(
            "cuPointerGetAttribute",
            DriverError(other),
        )),
    }
}

/// The number of GPUs (0 where there is no driver or no GPU).
pub fn device_count() -> usize {
    cuda().map(|c| c.devices.len()).unwrap_or(0)
}

/// Code loaded onto one device.
#[derive(Clone)]
pub struct GpuModule {
    module: Arc<Restoring<Arc<CudaModule>>>,
    context: Arc<CudaContext>,
}

impl Drop for GpuModule {
    /// The last handle waits for the device before the code is unloaded:
    /// calls on GPU arrays return without waiting, so its kernels may
    /// still be queued or running, and the driver does not promise to
    /// wait for them when unloading.
    fn drop(&mut self) {
        if Arc::strong_count(&self.module) == 1 {
            let _current = CurrentContext::save();
            let _ = self.context.synchronize();
        }
    }
}

/// A kernel of a loaded module.
#[derive(Clone)]
pub struct GpuKernel {
    function: Arc<Restoring<CudaFunction>>,
}

/// Device memory, freed when dropped.
pub struct DeviceBuffer {
    pointer: sys::CUdeviceptr,
    bytes: usize,
    context: Arc<CudaContext>,
}

impl DeviceBuffer {
    /// The device address, for kernel arguments.
    pub fn pointer(&self) -> u64 {
        self.pointer
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

impl Drop for DeviceBuffer {
    fn drop(&mut self) {
        let _current = CurrentContext::save();
        if self.bytes > 0 && self.context.bind_to_thread().is_ok() {
            // SAFETY: allocated by cuMemAlloc in this context; freed once.
            let _ = unsafe { result::free_sync(self.pointer) };
        }
    }
}

impl GpuDevice {
    /// Makes this device's context current on the calling thread until
    /// the returned guard is dropped.
    pub fn enter(&self) -> Result<CurrentContext, GpuError> {
        let current = CurrentContext::save();
        self.context
            .bind_to_thread()
            .map_err(|e| GpuError::from_driver("cuCtxSetCurrent", e))?;
        Ok(current)
    }

    /// Waits for the work queued on `stream` (null: the legacy default
    /// stream) of this device.
    ///
    /// # Safety
    /// `stream` must be null, a special handle (`CU_STREAM_LEGACY`,
    /// `CU_STREAM_PER_THREAD`) or a live stream of this device's context.
    pub unsafe fn synchronize_stream(&self, stream: sys::CUstream) -> Result<(), GpuError> {
        let _current = self.enter()?;
        // SAFETY: a stream of this context, or null.
        checked("cuStreamSynchronize", unsafe {
            sys::cuStreamSynchronize(stream)
        })
    }

    /// Orders the work queued on `stream` from now on after the work queued
    /// so far on `producer` (an event between them; no host wait).
    ///
    /// # Safety
    /// Both must be null, a special handle or a live stream of this
    /// device's context.
    pub unsafe fn order_after(
        &self,
        stream: sys::CUstream,
        producer: sys::CUstream,
    ) -> Result<(), GpuError> {
        let _current = self.enter()?;
        let mut event: sys::CUevent = std::ptr::null_mut();
        let flags = sys::CUevent_flags_enum::CU_EVENT_DISABLE_TIMING as u32;
        // SAFETY: creates an event, records it on the producer's stream and
        // makes `stream` wait for it; destroying it after the wait is
        // queued is allowed (the driver releases it when it completes).
        unsafe {
            checked("cuEventCreate", sys::cuEventCreate(&mut event, flags))?;
            let ordered =
                checked("cuEventRecord", sys::cuEventRecord(event, producer)).and_then(|()| {
                    checked(
                        "cuStreamWaitEvent",
                        sys::cuStreamWaitEvent(stream, event, 0),
                    )
                });
            sys::cuEventDestroy_v2(event);
            ordered
        }
    }

    /// Queues a copy of `bytes` bytes from host memory to device memory on
    /// `stream`.
    ///
    /// # Safety
    /// Both ranges must stay valid (and the host one unchanged) until the
    /// stream has done the copy.
    pub unsafe fn copy_to_device_async(
        &self,
        device: u64,
        host: *const c_void,
        bytes: usize,
        stream: sys::CUstream,
    ) -> Result<(), GpuError> {
        let _current = self.enter()?;
        checked("cuMemcpyHtoDAsync", unsafe {
            sys::cuMemcpyHtoDAsync_v2(device, host, bytes, stream)
        })
    }

    /// Queues a copy of `bytes` bytes from device memory to host memory on
    /// `stream`.
    ///
    /// # Safety
    /// Both ranges must stay valid until the stream has done the copy.
    pub unsafe fn copy_to_host_async(
        &self,
        host: *mut c_void,
        device: u64,
        bytes: usize,
        stream: sys::CUstream,
    ) -> Result<(), GpuError> {
        let _current = self.enter()?;
        checked("cuMemcpyDtoHAsync", unsafe {
            sys::cuMemcpyDtoHAsync_v2(host, device, bytes, stream)
        })
    }

    /// The next stream of the pool, ordered after the work queued so far on
    /// the legacy default stream (where CuPy and Torch put their work by
    /// default), so a task's kernels see arrays prepared before it.
    /// (Pool streams are non-blocking: without this they would not wait.)
    pub fn stream_after_default(&self) -> Result<Arc<CudaStream>, GpuError> {
        let stream = self.stream();
        self.order_after_default(&stream)?;
        Ok(stream)
    }

    /// Orders what `stream` runs from now on after the work queued so far
    /// on the legacy default stream (which CuPy and Torch use by default).
    pub fn order_after_default(&self, stream: &CudaStream) -> Result<(), GpuError> {
        let _current = self.enter()?;
        stream
            .join(&self.context.default_stream())
            .map_err(|e| GpuError::from_driver("cuStreamWaitEvent", e))
    }

    /// The next stream of the pool.
    pub fn stream(&self) -> Arc<CudaStream> {
        let n = self.next_stream.fetch_add(1, Ordering::Relaxed);
        self.streams[n % self.streams.len()].clone()
    }

    /// `sm_XY`, the PTX target of this device.
    pub fn arch(&self) -> String {
        format!(
            "sm_{}{}",
            self.compute_capability.0, self.compute_capability.1
        )
    }

    /// Loads PTX text: the driver compiles it for this device.
    pub fn load_ptx(&self, ptx: &str) -> Result<GpuModule, GpuError> {
        // The driver reads PTX up to its first NUL.
        let text = ptx.strip_suffix('\0').unwrap_or(ptx);
        if text.contains('\0') {
            return Err(GpuError::Launch(
                "the PTX text contains a NUL character".into(),
            ));
        }
        let mut image = text.as_bytes().to_vec();
        image.push(0);
        self.load_image(image)
    }

    /// Loads machine code for this device (a cubin or fat binary).
    pub fn load_cubin(&self, cubin: &[u8]) -> Result<GpuModule, GpuError> {
        self.load_image(cubin.to_vec())
    }

    fn load_image(&self, image: Vec<u8>) -> Result<GpuModule, GpuError> {
        let _current = CurrentContext::save();
        let module = match self
            .context
            .load_module(cudarc::nvrtc::Ptx::from_binary(image.clone()))
        {
            Ok(module) => module,
            Err(error) => {
                let mut error = GpuError::from_driver("cuModuleLoadData", error);
                if let (GpuError::Cuda { description, .. }, Some(log)) =
                    (&mut error, self.jit_error_log(&image))
                {
                    description.push_str(":\n");
                    description.push_str(&log);
                }
                return Err(error);
            }
        };
        Ok(GpuModule {
            module: Arc::new(Restoring::new(module)),
            context: self.context.clone(),
        })
    }

    /// What the driver's PTX compiler says of an image it refused (the
    /// line and the reason; `cuModuleLoadData` gives only an error code),
    /// from a second load that asks for its log. None if there is none.
    fn jit_error_log(&self, image: &[u8]) -> Option<String> {
        const LOG_BYTES: usize = 8192;
        let _current = self.enter().ok()?;
        let mut log = vec![0u8; LOG_BYTES];
        let mut options = [
            sys::CUjit_option::CU_JIT_ERROR_LOG_BUFFER,
            sys::CUjit_option::CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
        ];
        // Option values are passed as pointer-sized words: a pointer, and
        // a size in place of a pointer.
        let mut values: [*mut c_void; 2] = [log.as_mut_ptr().cast(), LOG_BYTES as *mut c_void];
        let mut module: sys::CUmodule = std::ptr::null_mut();
        // SAFETY: the image is the one just refused (NUL-terminated PTX, or
        // a binary); the log buffer holds LOG_BYTES bytes for the call.
        let result = unsafe {
            sys::cuModuleLoadDataEx(
                &mut module,
                image.as_ptr().cast(),
                options.len() as u32,
                options.as_mut_ptr(),
                values.as_mut_ptr(),
            )
        };
        if result == sys::CUresult::CUDA_SUCCESS {
            // Refused once and loaded now: nothing to explain.
            // SAFETY: the module just loaded, used by nothing.
            let _ = unsafe { sys::cuModuleUnload(module) };
            return None;
        }
        let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
        let text = String::from_utf8_lossy(&log[..end]).trim().to_string();
        (!text.is_empty()).then_some(text)
    }

    /// `bytes` of device memory.
    pub fn alloc(&self, bytes: usize) -> Result<DeviceBuffer, GpuError> {
        let _current = self.enter()?;
        let pointer = if bytes == 0 {
            0
        } else {
            // SAFETY: a plain allocation in the bound context.
            unsafe { result::malloc_sync(bytes) }
                .map_err(|e| GpuError::from_driver("cuMemAlloc", e))?
        };
        Ok(DeviceBuffer {
            pointer,
            bytes,
            context: self.context.clone(),
        })
    }

    /// `bytes` of device memory in `stream`'s order (the allocation is
    /// ready for the work queued after it): a call's locals that several of
    /// its kernels share. Freed with [`Self::free_in_stream`]. Devices
    /// without memory pools get a plain allocation, freed after the
    /// stream's work.
    ///
    /// # Safety
    /// `stream` must be null, a special handle or a live stream of this
    /// device's context.
    pub unsafe fn alloc_in_stream(
        &self,
        bytes: usize,
        stream: sys::CUstream,
    ) -> Result<u64, GpuError> {
        let _current = self.enter()?;
        if !self.memory_pools {
            // SAFETY: a plain allocation in the bound context; it is ready
            // before anything queued after this call.
            return unsafe { result::malloc_sync(bytes.max(1)) }
                .map_err(|e| GpuError::from_driver("cuMemAlloc", e));
        }
        let mut pointer: sys::CUdeviceptr = 0;
        // SAFETY: writes the allocation's address; the stream is the
        // caller's. cudarc panics where the driver lacks the entry point.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe {
            sys::cuMemAllocAsync(&mut pointer, bytes.max(1), stream)
        }))
        .map_err(|_| stream_ordered_memory_missing("cuMemAllocAsync"))?;
        checked("cuMemAllocAsync", result)?;
        Ok(pointer)
    }

    /// Frees `pointer` (from [`Self::alloc_in_stream`]) once the work
    /// queued on `stream` so far is done.
    ///
    /// # Safety
    /// `pointer` must come from `alloc_in_stream` on this device and not be
    /// used by work queued after this; `stream` as there.
    pub unsafe fn free_in_stream(
        &self,
        pointer: u64,
        stream: sys::CUstream,
    ) -> Result<(), GpuError> {
        let _current = self.enter()?;
        if !self.memory_pools {
            // SAFETY: the caller's contract; the stream's work (which may
            // use the memory) is done before the free.
            return unsafe {
                checked("cuStreamSynchronize", sys::cuStreamSynchronize(stream))?;
                result::free_sync(pointer)
            }
            .map_err(|e| GpuError::from_driver("cuMemFree", e));
        }
        // SAFETY: the caller's contract.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe {
            sys::cuMemFreeAsync(pointer, stream)
        }))
        .map_err(|_| stream_ordered_memory_missing("cuMemFreeAsync"))?;
        checked("cuMemFreeAsync", result)
    }

    /// Copies `host` to device address `device`, waiting for the copy.
    ///
    /// # Safety
    /// `device` must hold `host.len()` bytes.
    pub unsafe fn copy_to_device(&self, device: u64, host: &[u8]) -> Result<(), GpuError> {
        let _current = self.enter()?;
        unsafe { result::memcpy_htod_sync(device, host) }
            .map_err(|e| GpuError::from_driver("cuMemcpyHtoD", e))
    }

    /// Copies from device address `device` into `host`, waiting for the copy.
    ///
    /// # Safety
    /// `device` must hold `host.len()` bytes.
    pub unsafe fn copy_to_host(&self, host: &mut [u8], device: u64) -> Result<(), GpuError> {
        let _current = self.enter()?;
        unsafe { result::memcpy_dtoh_sync(host, device) }
            .map_err(|e| GpuError::from_driver("cuMemcpyDtoH", e))
    }

    /// Waits for all work on this device.
    pub fn synchronize(&self) -> Result<(), GpuError> {
        let _current = CurrentContext::save();
        self.context
            .synchronize()
            .map_err(|e| GpuError::from_driver("cuCtxSynchronize", e))
    }

    /// An event recorded on `stream` now.
    pub fn record_event(&self, stream: &CudaStream) -> Result<CudaEvent, GpuError> {
        let _current = CurrentContext::save();
        stream
            .record_event(None)
            .map_err(|e| GpuError::from_driver("cuEventRecord", e))
    }
}

impl GpuModule {
    pub fn kernel(&self, name: &str) -> Result<GpuKernel, GpuError> {
        // cudarc makes a C string of the name, and panics at a NUL.
        if name.contains('\0') {
            return Err(GpuError::Launch(format!(
                "the kernel name {name:?} contains a NUL character"
            )));
        }
        let _current = CurrentContext::save();
        let function = self
            .module
            .load_function(name)
            .map_err(|e| GpuError::from_driver("cuModuleGetFunction", e))?;
        Ok(GpuKernel {
            function: Arc::new(Restoring::new(function)),
        })
    }
}

/// Shared memory (static and dynamic together) a launch gets without
/// asking for more.
const DEFAULT_SHARED_BYTES: u32 = 48 * 1024;

impl GpuKernel {
    /// Lets launches of this kernel use `bytes` of dynamic shared memory.
    /// Past 48 KiB with its static shared memory (up to 227 KiB on sm_90)
    /// the driver needs to be told, per function: the limit is only ever
    /// raised, one thread at a time, so that concurrent launches of one
    /// kernel with other sizes do not lower it under each other. The
    /// context must be bound.
    fn allow_shared_bytes(&self, bytes: u32) -> Result<(), GpuError> {
        if bytes == 0 {
            return Ok(());
        }
        let function = self.function.cu_function();
        let get = |attribute| {
            let mut value = 0i32;
            // SAFETY: a loaded function; writes one int.
            checked("cuFuncGetAttribute", unsafe {
                sys::cuFuncGetAttribute(&mut value, attribute, function)
            })
            .map(|()| value.max(0) as u64)
        };
        let fixed = get(sys::CUfunction_attribute::CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES)?;
        if fixed + u64::from(bytes) <= u64::from(DEFAULT_SHARED_BYTES) {
            return Ok(());
        }
        static RAISING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one_at_a_time = RAISING.lock().unwrap_or_else(|e| e.into_inner());
        let allowed =
            get(sys::CUfunction_attribute::CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES)?;
        if allowed >= u64::from(bytes) {
            return Ok(());
        }
        // SAFETY: a loaded function; the attribute takes a byte count.
        checked("cuFuncSetAttribute", unsafe {
            sys::cuFuncSetAttribute(
                function,
                sys::CUfunction_attribute::CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                bytes as i32,
            )
        })
    }

    /// Launches on `stream` with `arguments` (one pointer to each parameter's
    /// value, in order).
    ///
    /// # Safety
    /// The arguments must match the kernel's parameters and every device
    /// address they hold must stay valid until the kernel finishes.
    pub unsafe fn launch(
        &self,
        stream: &CudaStream,
        shape: LaunchShape,
        arguments: &mut [*mut c_void],
    ) -> Result<(), GpuError> {
        let _current = CurrentContext::save();
        stream
            .context()
            .bind_to_thread()
            .map_err(|e| GpuError::from_driver("cuCtxSetCurrent", e))?;
        self.allow_shared_bytes(shape.shared_bytes)?;
        // SAFETY: the caller's contract.
        unsafe {
            result::launch_kernel(
                self.function.cu_function(),
                shape.grid,
                shape.block,
                shape.shared_bytes,
                stream.cu_stream(),
                arguments,
            )
        }
        .map_err(|e| GpuError::from_driver("cuLaunchKernel", e))
    }

    /// Launches on a raw stream of `device` (null: the legacy default
    /// stream), e.g. one owned by CuPy or Torch.
    ///
    /// # Safety
    /// As [`GpuKernel::launch`]; `stream` must belong to `device`'s context.
    pub unsafe fn launch_on(
        &self,
        device: &GpuDevice,
        stream: sys::CUstream,
        shape: LaunchShape,
        arguments: &mut [*mut c_void],
    ) -> Result<(), GpuError> {
        let _current = device.enter()?;
        self.allow_shared_bytes(shape.shared_bytes)?;
        // SAFETY: the caller's contract.
        unsafe {
            result::launch_kernel(
                self.function.cu_function(),
                shape.grid,
                shape.block,
                shape.shared_bytes,
                stream,
                arguments,
            )
        }
        .map_err(|e| GpuError::from_driver("cuLaunchKernel", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `y[i] = a * x[i] + y[i]`, written out in PTX (shared with the Python
    /// tests of `parla.cuda`).
    const AXPY: &str = include_str!("../../../examples/cuda/axpy.ptx");

    #[test]
    fn without_a_gpu_the_reason_is_given_and_nothing_panics() {
        match cuda() {
            Ok(cuda) => assert!(!cuda.devices().is_empty()),
            Err(GpuError::Unavailable(reason)) => {
                assert!(reason.contains("CUDA driver"), "{reason}");
                assert_eq!(device_count(), 0);
                eprintln!("skipped the GPU part: {reason}");
            }
            Err(other) => panic!("unexpected: {other}"),
        }
    }

    #[test]
    fn a_ptx_kernel_runs_on_each_gpu() {
        let cuda = match cuda() {
            Ok(cuda) => cuda,
            Err(reason) => {
                eprintln!("skipped: {reason}");
                return;
            }
        };
        let n = 1000usize;
        let x: Vec<f32> = (0..n).map(|i| i as f32).collect();
        let y: Vec<f32> = vec![1.0; n];
        for device in cuda.devices() {
            let module = device.load_ptx(AXPY).expect("the driver compiles the PTX");
            let kernel = module.kernel("axpy").expect("the kernel is there");
            let dx = device.alloc(n * 4).unwrap();
            let dy = device.alloc(n * 4).unwrap();
            let bytes = |v: &[f32]| v.iter().flat_map(|f| f.to_ne_bytes()).collect::<Vec<u8>>();
            unsafe {
                device.copy_to_device(dx.pointer(), &bytes(&x)).unwrap();
                device.copy_to_device(dy.pointer(), &bytes(&y)).unwrap();
            }
            let (mut a, mut px, mut py, mut count) = (2.0f32, dx.pointer(), dy.pointer(), n as u32);
            let mut arguments = [
                &mut a as *mut f32 as *mut c_void,
                &mut px as *mut u64 as *mut c_void,
                &mut py as *mut u64 as *mut c_void,
                &mut count as *mut u32 as *mut c_void,
            ];
            let stream = device.stream();
            let shape = LaunchShape {
                grid: (n.div_ceil(256) as u32, 1, 1),
                block: (256, 1, 1),
                shared_bytes: 0,
            };
            unsafe { kernel.launch(&stream, shape, &mut arguments).unwrap() };
            stream.synchronize().unwrap();
            let mut out = vec![0u8; n * 4];
            unsafe { device.copy_to_host(&mut out, dy.pointer()).unwrap() };
            for (i, chunk) in out.chunks(4).enumerate() {
                let v = f32::from_ne_bytes(chunk.try_into().unwrap());
                assert_eq!(v, 2.0 * i as f32 + 1.0);
            }
        }
    }

    #[test]
    fn calls_leave_the_threads_context_as_they_found_it() {
        // A fresh thread has no current context; CuPy and Torch would take
        // one left bound as their current device.
        std::thread::spawn(|| {
            let Ok(cuda) = cuda() else { return };
            let unbound = || CurrentContext::save().0.is_null();
            assert!(unbound(), "discovery");
            for device in cuda.devices() {
                let module = device.load_ptx(AXPY).unwrap();
                assert!(unbound(), "load_ptx");
                let kernel = module.kernel("axpy").unwrap();
                let buffer = device.alloc(4096).unwrap();
                unsafe {
                    device
                        .copy_to_device(buffer.pointer(), &[0u8; 4096])
                        .unwrap()
                };
                let stream = device.stream_after_default().unwrap();
                assert!(unbound(), "alloc, copy, stream");
                let (mut a, mut x, mut count) = (1.0f32, buffer.pointer(), 1024u32);
                let mut arguments = [
                    &mut a as *mut f32 as *mut c_void,
                    &mut x as *mut u64 as *mut c_void,
                    &mut x as *mut u64 as *mut c_void,
                    &mut count as *mut u32 as *mut c_void,
                ];
                let shape = LaunchShape {
                    grid: (4, 1, 1),
                    block: (256, 1, 1),
                    shared_bytes: 0,
                };
                unsafe { kernel.launch(&stream, shape, &mut arguments).unwrap() };
                synchronize(&stream).unwrap();
                assert!(unbound(), "launch");
                drop((kernel, module, buffer));
                assert!(unbound(), "release");
            }
        })
        .join()
        .expect("no context left bound");
    }

    #[test]
    fn only_kernel_faults_are_said_to_end_cuda_in_the_process() {
        use crate::gpu::loses_the_context;
        use sys::CUresult::*;
        assert!(loses_the_context(CUDA_ERROR_ILLEGAL_ADDRESS as i32));
        assert!(loses_the_context(CUDA_ERROR_LAUNCH_FAILED as i32));
        assert!(loses_the_context(CUDA_ERROR_MISALIGNED_ADDRESS as i32));
        // Recoverable: the runtime stays usable after these.
        for status in [
            CUDA_ERROR_OUT_OF_MEMORY,
            CUDA_ERROR_INVALID_VALUE,
            CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES,
            CUDA_ERROR_NOT_FOUND,
        ] {
            assert!(!loses_the_context(status as i32), "{status:?}");
        }
    }

    #[test]
    fn bad_ptx_is_an_error_with_the_cuda_name() {
        let Ok(cuda) = cuda() else { return };
        let error = cuda.devices()[0]
            .load_ptx("not ptx")
            .err()
            .expect("rejected");
        assert!(
            matches!(&error, GpuError::Cuda { name, .. } if name.starts_with("CUDA_ERROR")),
            "{error}"
        );
        // cudarc's own conversion of PTX text panics on a NUL.
        let error = cuda.devices()[0]
            .load_ptx("// a\0b")
            .err()
            .expect("rejected");
        assert!(error.to_string().contains("NUL"), "{error}");
    }
}
