//! AMD GPUs through the HIP runtime (libamdhip64, linked by `hip-sys`: this
//! module is built only with the `rocm` feature, so that default builds
//! need nothing of ROCm).
//!
//! The same shape as [`crate::cuda`]: each device has a pool of streams
//! handed out in turn, modules are loaded from linked code objects (ELF,
//! which the compiler produces with `ld.lld`), and every HIP failure
//! becomes a [`GpuError`] with the HIP error's name. On a machine with the
//! runtime but no AMD GPU, [`hip`] says so.

mod ffi;

use crate::gpu::{GpuError, LaunchShape, STREAMS_PER_DEVICE};
use hip_sys::hiprt as sys;
use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// A HIP stream handle (null: the device's null stream).
pub type RawStream = sys::hipStream_t;

impl GpuError {
    /// The error of HIP call `call`.
    pub fn from_hip(call: &'static str, error: ffi::Status) -> Self {
        let text = |p: *const c_char| {
            if p.is_null() {
                format!("hipError_t {error}")
            } else {
                // SAFETY: HIP returns static NUL-terminated strings.
                unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
            }
        };
        // SAFETY: plain queries of static tables.
        let (name, description) = unsafe {
            (
                text(ffi::hipGetErrorName(error)),
                text(ffi::hipGetErrorString(error)),
            )
        };
        GpuError::Hip {
            call,
            name,
            description: crate::gpu::describe_failure(error, description),
        }
    }
}

/// The result of HIP call `call` as a [`GpuError`].
fn checked(call: &'static str, result: ffi::Status) -> Result<(), GpuError> {
    if result == ffi::SUCCESS {
        Ok(())
    } else {
        Err(GpuError::from_hip(call, result))
    }
}

/// One AMD GPU and its stream pool.
pub struct HipDevice {
    pub ordinal: usize,
    pub name: String,
    /// The architecture the compiler targets, e.g. `gfx90a` (without the
    /// feature suffixes of HIP's `gcnArchName`, `:sramecc+:xnack-`).
    pub arch: String,
    /// Memory in bytes.
    pub memory: u64,
    streams: Vec<RawStream>,
    next_stream: AtomicUsize,
}

// SAFETY: HIP stream handles may be used from any thread.
unsafe impl Send for HipDevice {}
unsafe impl Sync for HipDevice {}

impl std::fmt::Debug for HipDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HipDevice")
            .field("ordinal", &self.ordinal)
            .field("name", &self.name)
            .field("arch", &self.arch)
            .field("memory", &self.memory)
            .finish()
    }
}

/// The AMD GPUs of this machine.
#[derive(Debug)]
pub struct Hip {
    devices: Vec<HipDevice>,
}

static HIP: OnceLock<Result<Hip, GpuError>> = OnceLock::new();

/// The AMD GPUs, found on first use; the reason when there are none.
pub fn hip() -> Result<&'static Hip, GpuError> {
    HIP.get_or_init(discover).as_ref().map_err(Clone::clone)
}

fn discover() -> Result<Hip, GpuError> {
    // SAFETY: initialises the runtime; failure is returned, not raised.
    let init = unsafe { ffi::hipInit(0) };
    if init != ffi::SUCCESS {
        return Err(GpuError::Unavailable(format!(
            "the HIP runtime found no AMD GPU ({})",
            GpuError::from_hip("hipInit", init)
        )));
    }
    let mut count = 0;
    // SAFETY: writes the count.
    checked("hipGetDeviceCount", unsafe {
        ffi::hipGetDeviceCount(&mut count)
    })
    .map_err(|e| GpuError::Unavailable(format!("the HIP runtime found no AMD GPU ({e})")))?;
    if count <= 0 {
        return Err(GpuError::Unavailable(
            "the HIP runtime found no AMD GPU".into(),
        ));
    }
    // Opening a device makes it current.
    let _current = CurrentDevice::save();
    let devices = (0..count as usize)
        .map(open_device)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Hip { devices })
}

fn open_device(ordinal: usize) -> Result<HipDevice, GpuError> {
    let id = ordinal as i32;
    let mut handle: sys::hipDevice_t = 0;
    // SAFETY: plain queries into owned buffers.
    unsafe {
        checked("hipDeviceGet", ffi::hipDeviceGet(&mut handle, id))?;
        let mut name = [0 as c_char; 256];
        checked(
            "hipDeviceGetName",
            ffi::hipDeviceGetName(name.as_mut_ptr(), name.len() as i32, handle),
        )?;
        let mut memory = 0usize;
        checked(
            "hipDeviceTotalMem",
            ffi::hipDeviceTotalMem(&mut memory, handle),
        )?;
        // Newer runtimes' property structs are larger than the one these
        // bindings know: give HIP room to write, read only the known fields.
        let mut room = vec![0u64; 4096];
        let properties = room.as_mut_ptr().cast::<sys::hipDeviceProp_t>();
        checked(
            "hipGetDeviceProperties",
            ffi::hipGetDeviceProperties(properties, id),
        )?;
        let arch = CStr::from_ptr((*properties).gcnArchName.as_ptr())
            .to_string_lossy()
            .split(':')
            .next()
            .unwrap_or_default()
            .to_string();
        checked("hipSetDevice", ffi::hipSetDevice(id))?;
        let mut streams = Vec::with_capacity(STREAMS_PER_DEVICE);
        for _ in 0..STREAMS_PER_DEVICE {
            let mut stream: RawStream = std::ptr::null_mut();
            checked("hipStreamCreate", ffi::hipStreamCreate(&mut stream))?;
            streams.push(stream);
        }
        Ok(HipDevice {
            ordinal,
            name: CStr::from_ptr(name.as_ptr()).to_string_lossy().into_owned(),
            arch,
            memory: memory as u64,
            streams,
            next_stream: AtomicUsize::new(0),
        })
    }
}

impl Hip {
    pub fn devices(&self) -> &[HipDevice] {
        &self.devices
    }

    pub fn device(&self, ordinal: usize) -> Result<&HipDevice, GpuError> {
        self.devices.get(ordinal).ok_or(GpuError::NoSuchDevice {
            ordinal,
            count: self.devices.len(),
        })
    }
}

/// The AMD GPU that holds device address `pointer`, or `None` when HIP does
/// not know the address (host memory).
pub fn device_of_pointer(pointer: u64) -> Result<Option<usize>, GpuError> {
    hip()?;
    let mut attributes = std::mem::MaybeUninit::<sys::hipPointerAttribute_t>::zeroed();
    // SAFETY: writes the attributes; the memory type (whose numbering
    // changed between HIP versions) is not read, only the device pointer
    // and device, which keep their places.
    let known =
        unsafe { ffi::hipPointerGetAttributes(attributes.as_mut_ptr(), pointer as *const c_void) };
    if known != ffi::SUCCESS {
        return Ok(None);
    }
    let attributes = attributes.as_ptr();
    // SAFETY: filled in by HIP.
    let (device_pointer, device) = unsafe {
        (
            std::ptr::addr_of!((*attributes).devicePointer).read(),
            std::ptr::addr_of!((*attributes).device).read(),
        )
    };
    Ok((!device_pointer.is_null() && device >= 0).then_some(device as usize))
}

/// Device memory, freed on drop.
pub struct HipBuffer {
    pointer: u64,
    bytes: usize,
    ordinal: usize,
}

impl HipBuffer {
    /// The address, no longer freed by this buffer: [`Self::from_raw`]
    /// takes it back.
    pub fn into_raw(self) -> u64 {
        let pointer = self.pointer;
        std::mem::forget(self);
        pointer
    }

    /// The buffer at `pointer`, which frees it when dropped.
    ///
    /// # Safety
    /// `pointer` must come from [`Self::into_raw`] of a buffer of device
    /// `ordinal`, once.
    pub unsafe fn from_raw(pointer: u64, ordinal: usize) -> Self {
        HipBuffer {
            pointer,
            bytes: 0,
            ordinal,
        }
    }

    pub fn pointer(&self) -> u64 {
        self.pointer
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

impl Drop for HipBuffer {
    fn drop(&mut self) {
        if self.pointer != 0 {
            let _current = CurrentDevice::save();
            // SAFETY: allocated by `HipDevice::alloc` on this device.
            unsafe {
                ffi::hipSetDevice(self.ordinal as i32);
                ffi::hipFree(self.pointer as *mut c_void);
            }
        }
    }
}

/// A code object loaded on one device; unloaded when the last kernel of it
/// is dropped.
#[derive(Clone)]
pub struct HipModule {
    module: Arc<ModuleHandle>,
}

struct ModuleHandle(sys::hipModule_t);

// SAFETY: module handles may be used from any thread.
unsafe impl Send for ModuleHandle {}
unsafe impl Sync for ModuleHandle {}

impl Drop for ModuleHandle {
    fn drop(&mut self) {
        // SAFETY: loaded once by `load_code_object`, unloaded once.
        unsafe { ffi::hipModuleUnload(self.0) };
    }
}

/// A kernel of a [`HipModule`].
#[derive(Clone)]
pub struct HipKernel {
    function: sys::hipFunction_t,
    _module: Arc<ModuleHandle>,
}

// SAFETY: function handles may be used from any thread.
unsafe impl Send for HipKernel {}
unsafe impl Sync for HipKernel {}

/// An event recorded on a stream.
pub struct HipEvent(sys::hipEvent_t);

// SAFETY: event handles may be used from any thread.
unsafe impl Send for HipEvent {}
unsafe impl Sync for HipEvent {}

impl Drop for HipEvent {
    fn drop(&mut self) {
        // SAFETY: created once by `record_event`.
        unsafe { ffi::hipEventDestroy(self.0) };
    }
}

impl HipEvent {
    /// Waits on the host until the work before the event is done.
    pub fn synchronize(&self) -> Result<(), GpuError> {
        // SAFETY: a live event.
        checked("hipEventSynchronize", unsafe {
            ffi::hipEventSynchronize(self.0)
        })
    }
}

/// The calling thread's current device, made current again when dropped:
/// CuPy and Torch on ROCm allocate on the thread's current HIP device, which
/// a call here must leave as it found it.
#[must_use]
pub struct CurrentDevice(Option<i32>);

impl CurrentDevice {
    pub fn save() -> Self {
        let mut ordinal = -1;
        // SAFETY: writes one int.
        let status = unsafe { ffi::hipGetDevice(&mut ordinal) };
        CurrentDevice((status == ffi::SUCCESS && ordinal >= 0).then_some(ordinal))
    }
}

impl Drop for CurrentDevice {
    fn drop(&mut self) {
        if let Some(ordinal) = self.0 {
            // SAFETY: an ordinal HIP reported.
            let _ = unsafe { ffi::hipSetDevice(ordinal) };
        }
    }
}

impl HipDevice {
    /// Makes this device the calling thread's current one until the
    /// returned guard is dropped.
    pub fn enter(&self) -> Result<CurrentDevice, GpuError> {
        let current = CurrentDevice::save();
        // SAFETY: a valid ordinal.
        checked("hipSetDevice", unsafe {
            ffi::hipSetDevice(self.ordinal as i32)
        })?;
        Ok(current)
    }

    /// A stream of the pool, in turn.
    pub fn stream(&self) -> RawStream {
        self.streams[self.next_stream.fetch_add(1, Ordering::Relaxed) % self.streams.len()]
    }

    pub fn alloc(&self, bytes: usize) -> Result<HipBuffer, GpuError> {
        let _current = self.enter()?;
        let mut pointer: *mut c_void = std::ptr::null_mut();
        if bytes > 0 {
            // SAFETY: writes the allocation's address.
            checked("hipMalloc", unsafe { ffi::hipMalloc(&mut pointer, bytes) })?;
        }
        Ok(HipBuffer {
            pointer: pointer as u64,
            bytes,
            ordinal: self.ordinal,
        })
    }

    /// Queues a copy of `bytes` bytes from `host` to `device` on `stream`.
    ///
    /// # Safety
    /// Both ranges must be valid until the stream has done the copy.
    pub unsafe fn copy_to_device_async(
        &self,
        device: u64,
        host: *const c_void,
        bytes: usize,
        stream: RawStream,
    ) -> Result<(), GpuError> {
        let _current = self.enter()?;
        // SAFETY: the caller's contract.
        checked("hipMemcpyHtoDAsync", unsafe {
            ffi::hipMemcpyHtoDAsync(device as *mut c_void, host.cast_mut(), bytes, stream)
        })
    }

    /// Queues a copy of `bytes` bytes from `device` to `host` on `stream`.
    ///
    /// # Safety
    /// Both ranges must be valid until the stream has done the copy.
    pub unsafe fn copy_to_host_async(
        &self,
        host: *mut c_void,
        device: u64,
        bytes: usize,
        stream: RawStream,
    ) -> Result<(), GpuError> {
        let _current = self.enter()?;
        // SAFETY: the caller's contract.
        checked("hipMemcpyDtoHAsync", unsafe {
            ffi::hipMemcpyDtoHAsync(host, device as *mut c_void, bytes, stream)
        })
    }

    /// Waits for the work queued on `stream`.
    ///
    /// # Safety
    /// `stream` must be a live stream of this device (or null).
    pub unsafe fn synchronize_stream(&self, stream: RawStream) -> Result<(), GpuError> {
        let _current = self.enter()?;
        // SAFETY: the caller's contract.
        checked("hipStreamSynchronize", unsafe {
            ffi::hipStreamSynchronize(stream)
        })
    }

    /// Waits for everything queued on this device.
    pub fn synchronize(&self) -> Result<(), GpuError> {
        let _current = self.enter()?;
        // SAFETY: no arguments.
        checked("hipDeviceSynchronize", unsafe {
            ffi::hipDeviceSynchronize()
        })
    }

    /// Records an event on `stream`.
    ///
    /// # Safety
    /// `stream` must be a live stream of this device (or null).
    pub unsafe fn record_event(&self, stream: RawStream) -> Result<HipEvent, GpuError> {
        let _current = self.enter()?;
        let mut event: sys::hipEvent_t = std::ptr::null_mut();
        // SAFETY: creates an event, then records it on the caller's stream.
        unsafe {
            checked("hipEventCreate", ffi::hipEventCreate(&mut event))?;
            let event = HipEvent(event);
            checked("hipEventRecord", ffi::hipEventRecord(event.0, stream))?;
            Ok(event)
        }
    }

    /// Makes `stream` wait for `event` before its later work (no host wait).
    ///
    /// # Safety
    /// `stream` must be a live stream of this device (or null).
    pub unsafe fn stream_wait(&self, stream: RawStream, event: &HipEvent) -> Result<(), GpuError> {
        let _current = self.enter()?;
        // SAFETY: the caller's stream and a live event.
        checked("hipStreamWaitEvent", unsafe {
            ffi::hipStreamWaitEvent(stream, event.0, 0)
        })
    }

    /// Orders the work queued on `stream` from now on after the work queued
    /// so far on `producer` (no host wait).
    ///
    /// # Safety
    /// Both must be live streams of this device (or null).
    pub unsafe fn order_after(
        &self,
        stream: RawStream,
        producer: RawStream,
    ) -> Result<(), GpuError> {
        // SAFETY: the caller's streams.
        unsafe {
            let event = self.record_event(producer)?;
            self.stream_wait(stream, &event)
        }
    }

    /// Loads a linked code object (an AMDGPU ELF image) onto this device.
    pub fn load_code_object(&self, image: &[u8]) -> Result<HipModule, GpuError> {
        if !image.starts_with(b"\x7fELF") {
            return Err(GpuError::Launch(
                "AMD GPUs load linked code objects (ELF); this device code is not one".into(),
            ));
        }
        let _current = self.enter()?;
        let mut module: sys::hipModule_t = std::ptr::null_mut();
        // SAFETY: HIP reads the ELF image, whose size its header gives.
        checked("hipModuleLoadData", unsafe {
            ffi::hipModuleLoadData(&mut module, image.as_ptr().cast())
        })?;
        Ok(HipModule {
            module: Arc::new(ModuleHandle(module)),
        })
    }
}

impl HipModule {
    pub fn kernel(&self, name: &str) -> Result<HipKernel, GpuError> {
        let name = CString::new(name).map_err(|_| {
            GpuError::Launch(format!("a kernel name holds a NUL character: {name:?}"))
        })?;
        let mut function: sys::hipFunction_t = std::ptr::null_mut();
        // SAFETY: a live module and a C string.
        checked("hipModuleGetFunction", unsafe {
            ffi::hipModuleGetFunction(&mut function, self.module.0, name.as_ptr())
        })?;
        Ok(HipKernel {
            function,
            _module: self.module.clone(),
        })
    }
}

impl HipKernel {
    /// Launches on `stream` of `device` with `arguments` (one pointer to
    /// each parameter's value, in order).
    ///
    /// # Safety
    /// The arguments must match the kernel's parameters, every device
    /// address they hold must stay valid until the kernel finishes, and
    /// `stream` must belong to `device` (or be null).
    pub unsafe fn launch_on(
        &self,
        device: &HipDevice,
        stream: RawStream,
        shape: LaunchShape,
        arguments: &mut [*mut c_void],
    ) -> Result<(), GpuError> {
        let _current = device.enter()?;
        // SAFETY: the caller's contract.
        checked("hipModuleLaunchKernel", unsafe {
            ffi::hipModuleLaunchKernel(
                self.function,
                shape.grid.0,
                shape.grid.1,
                shape.grid.2,
                shape.block.0,
                shape.block.1,
                shape.block.2,
                shape.shared_bytes,
                stream,
                arguments.as_mut_ptr(),
                std::ptr::null_mut(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_an_amd_gpu_the_reason_is_given_and_nothing_panics() {
        match hip() {
            Ok(hip) => {
                let device = &hip.devices()[0];
                assert!(device.arch.starts_with("gfx"), "{device:?}");
            }
            Err(GpuError::Unavailable(reason)) => {
                assert!(reason.contains("no AMD GPU"), "{reason}");
                assert!(matches!(
                    device_of_pointer(0x1000),
                    Err(GpuError::Unavailable(_))
                ));
                eprintln!("skipped the GPU part: {reason}");
            }
            Err(other) => panic!("unexpected: {other}"),
        }
    }

    #[test]
    fn memory_round_trips_and_bad_code_objects_are_errors() {
        let Ok(hip) = hip() else { return };
        let device = &hip.devices()[0];
        let data: Vec<u8> = (0..=255).collect();
        let buffer = device.alloc(data.len()).unwrap();
        let mut back = vec![0u8; data.len()];
        let stream = device.stream();
        unsafe {
            device
                .copy_to_device_async(buffer.pointer(), data.as_ptr().cast(), data.len(), stream)
                .unwrap();
            device
                .copy_to_host_async(
                    back.as_mut_ptr().cast(),
                    buffer.pointer(),
                    back.len(),
                    stream,
                )
                .unwrap();
            let done = device.record_event(stream).unwrap();
            let other = device.stream();
            device.stream_wait(other, &done).unwrap();
            done.synchronize().unwrap();
            device.synchronize_stream(other).unwrap();
        }
        assert_eq!(back, data);
        assert_eq!(device_of_pointer(buffer.pointer()).unwrap(), Some(0));
        assert_eq!(device_of_pointer(back.as_ptr() as u64).unwrap(), None);
        assert!(device.load_code_object(b"not ELF").is_err());
        let broken = device.load_code_object(b"\x7fELF and nothing else").err();
        assert!(
            matches!(&broken, Some(GpuError::Hip { name, .. }) if name.starts_with("hipError")),
            "{broken:?}"
        );
    }
}
