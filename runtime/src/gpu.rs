//! A GPU of either vendor, for the code that stages arrays and runs compiled
//! functions the same way on both: NVIDIA GPUs through the CUDA driver
//! ([`crate::cuda`]), AMD GPUs through HIP ([`crate::hip`], `rocm`
//! feature). Streams are passed as addresses, as CuPy, Torch and the CUDA
//! array interface pass them (0: the device's default stream).
//!
//! Without the `rocm` feature, asking for an AMD GPU is an error that says
//! how to get one, so callers need no feature switches of their own.
//!
//! Also what both vendors' modules share: [`GpuError`], [`LaunchShape`],
//! [`PerDevice`] caches and the stream pool size.

use crate::cuda::{self, DeviceBuffer, GpuDevice};
#[cfg(feature = "rocm")]
use crate::hip::{self, HipBuffer, HipDevice};
use crate::launch::LaunchScope;
use std::ffi::c_void;
use thiserror::Error;

/// Streams per device: tasks and kernels take them in turn.
pub const STREAMS_PER_DEVICE: usize = 8;

/// Why a GPU operation could not be done.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum GpuError {
    /// No runtime (CUDA driver, HIP) or no GPU of a vendor on this machine.
    #[error("no GPU is available: {0}")]
    Unavailable(String),
    /// A CUDA driver call failed.
    #[error("{call} failed with {name}: {description}")]
    Cuda {
        call: &'static str,
        /// The CUDA error's name, e.g. `CUDA_ERROR_OUT_OF_MEMORY`.
        name: String,
        description: String,
    },
    /// A HIP call failed (AMD GPUs, `rocm` feature).
    #[error("{call} failed with {name}: {description}")]
    Hip {
        call: &'static str,
        /// The HIP error's name, e.g. `hipErrorOutOfMemory`.
        name: String,
        description: String,
    },
    #[error("GPU {ordinal} does not exist: this machine has {count}")]
    NoSuchDevice { ordinal: usize, count: usize },
    /// A launch that cannot be made as asked.
    #[error("{0}")]
    Launch(String),
    /// No compiler for CUDA C++ (NVRTC) on this machine.
    #[error("{0}")]
    NoCompiler(String),
    /// CUDA C++ that NVRTC rejects, with its log.
    #[error("the CUDA C++ does not compile:\n{0}")]
    SourceCompile(String),
}

/// Whether a CUDA or HIP status (both number them alike) is an error after
/// which the runtime fails every later call of the process: a kernel's
/// fault (illegal or misaligned address, illegal instruction, assert,
/// timeout, launch failure) corrupts the device's context, which CuPy and
/// Torch share, so it cannot be reset here.
pub fn loses_the_context(status: i32) -> bool {
    matches!(status, 700 | 702 | 710 | 714..=719)
}

/// The description of a failing CUDA or HIP call with `status`, from the
/// runtime's own text: errors that lose the context say what that means.
pub(crate) fn describe_failure(status: i32, runtime_text: String) -> String {
    if loses_the_context(status) {
        runtime_text
            + " (after this error the GPU runtime refuses all further work in this \
               process: restart it; debug=True checks the array accesses of JIT kernels)"
    } else {
        runtime_text
    }
}

/// One value per device, made on first use there (code loaded onto each
/// GPU it runs on, and the kernels found in it).
pub struct PerDevice<T> {
    entries: std::sync::Mutex<Vec<(usize, T)>>,
}

impl<T> Default for PerDevice<T> {
    fn default() -> Self {
        Self {
            entries: std::sync::Mutex::new(Vec::new()),
        }
    }
}

impl<T: Clone> PerDevice<T> {
    /// The value for `device`, made by `make` the first time.
    pub fn get_or_try_insert(
        &self,
        ordinal: usize,
        make: impl FnOnce() -> Result<T, GpuError>,
    ) -> Result<T, GpuError> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, value)) = entries.iter().find(|(d, _)| *d == ordinal) {
            return Ok(value.clone());
        }
        let value = make()?;
        entries.push((ordinal, value.clone()));
        Ok(value)
    }
}

/// A launch's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaunchShape {
    pub grid: (u32, u32, u32),
    pub block: (u32, u32, u32),
    pub shared_bytes: u32,
}

/// Who made a GPU: which runtime drives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vendor {
    /// CUDA.
    Nvidia,
    /// HIP.
    Amd,
}

/// One GPU.
#[derive(Debug, Clone, Copy)]
pub enum Gpu {
    Cuda(&'static GpuDevice),
    #[cfg(feature = "rocm")]
    Hip(&'static HipDevice),
}

/// Device memory of either vendor, freed on drop.
pub enum DeviceMemory {
    Cuda(DeviceBuffer),
    #[cfg(feature = "rocm")]
    Hip(HipBuffer),
}

impl DeviceMemory {
    pub fn pointer(&self) -> u64 {
        match self {
            DeviceMemory::Cuda(buffer) => buffer.pointer(),
            #[cfg(feature = "rocm")]
            DeviceMemory::Hip(buffer) => buffer.pointer(),
        }
    }

    pub fn bytes(&self) -> usize {
        match self {
            DeviceMemory::Cuda(buffer) => buffer.bytes(),
            #[cfg(feature = "rocm")]
            DeviceMemory::Hip(buffer) => buffer.bytes(),
        }
    }
}

#[cfg(not(feature = "rocm"))]
fn no_hip() -> GpuError {
    GpuError::Unavailable(
        "this build of parla has no HIP runtime for AMD GPUs (build it with the `rocm` feature, \
         e.g. maturin build --features rocm, on a machine with ROCm)"
            .into(),
    )
}

/// Both vendors, NVIDIA first.
pub const VENDORS: [Vendor; 2] = [Vendor::Nvidia, Vendor::Amd];

/// Whether this machine has GPUs of `vendor` (each runtime's discovery
/// fails when it finds none), or why not; builds no list.
pub fn available(vendor: Vendor) -> Result<(), GpuError> {
    match vendor {
        Vendor::Nvidia => cuda::cuda().map(drop),
        #[cfg(feature = "rocm")]
        Vendor::Amd => hip::hip().map(drop),
        #[cfg(not(feature = "rocm"))]
        Vendor::Amd => Err(no_hip()),
    }
}

/// The GPUs of `vendor`, or why there are none.
pub fn devices(vendor: Vendor) -> Result<Vec<Gpu>, GpuError> {
    match vendor {
        Vendor::Nvidia => Ok(cuda::cuda()?.devices().iter().map(Gpu::Cuda).collect()),
        #[cfg(feature = "rocm")]
        Vendor::Amd => Ok(hip::hip()?.devices().iter().map(Gpu::Hip).collect()),
        #[cfg(not(feature = "rocm"))]
        Vendor::Amd => Err(no_hip()),
    }
}

/// GPU `ordinal` of `vendor`.
pub fn device(vendor: Vendor, ordinal: usize) -> Result<Gpu, GpuError> {
    match vendor {
        Vendor::Nvidia => Ok(Gpu::Cuda(cuda::cuda()?.device(ordinal)?)),
        #[cfg(feature = "rocm")]
        Vendor::Amd => Ok(Gpu::Hip(hip::hip()?.device(ordinal)?)),
        #[cfg(not(feature = "rocm"))]
        Vendor::Amd => Err(no_hip()),
    }
}

/// The GPU of `vendor` that holds device address `pointer`, or `None` when
/// its runtime does not know the address.
pub fn device_of_pointer(vendor: Vendor, pointer: u64) -> Result<Option<usize>, GpuError> {
    match vendor {
        Vendor::Nvidia => cuda::device_of_pointer(pointer),
        #[cfg(feature = "rocm")]
        Vendor::Amd => hip::device_of_pointer(pointer),
        #[cfg(not(feature = "rocm"))]
        Vendor::Amd => Err(no_hip()),
    }
}

impl Gpu {
    pub fn vendor(self) -> Vendor {
        match self {
            Gpu::Cuda(_) => Vendor::Nvidia,
            #[cfg(feature = "rocm")]
            Gpu::Hip(_) => Vendor::Amd,
        }
    }

    pub fn ordinal(self) -> usize {
        match self {
            Gpu::Cuda(device) => device.ordinal,
            #[cfg(feature = "rocm")]
            Gpu::Hip(device) => device.ordinal,
        }
    }

    pub fn name(self) -> String {
        match self {
            Gpu::Cuda(device) => device.name.clone(),
            #[cfg(feature = "rocm")]
            Gpu::Hip(device) => device.name.clone(),
        }
    }

    /// Memory in bytes.
    pub fn memory(self) -> u64 {
        match self {
            Gpu::Cuda(device) => device.memory,
            #[cfg(feature = "rocm")]
            Gpu::Hip(device) => device.memory,
        }
    }

    /// The NVIDIA device, for what only CUDA does (PTX, CUDA C++).
    pub fn as_cuda(self) -> Option<&'static GpuDevice> {
        match self {
            Gpu::Cuda(device) => Some(device),
            #[cfg(feature = "rocm")]
            Gpu::Hip(_) => None,
        }
    }

    /// The architecture the compiler targets: `sm_90`, `gfx90a`.
    pub fn arch(self) -> String {
        match self {
            Gpu::Cuda(device) => device.arch(),
            #[cfg(feature = "rocm")]
            Gpu::Hip(device) => device.arch.clone(),
        }
    }

    pub fn alloc(self, bytes: usize) -> Result<DeviceMemory, GpuError> {
        match self {
            Gpu::Cuda(device) => device.alloc(bytes).map(DeviceMemory::Cuda),
            #[cfg(feature = "rocm")]
            Gpu::Hip(device) => device.alloc(bytes).map(DeviceMemory::Hip),
        }
    }

    /// Queues a copy of `bytes` bytes from `host` to `device` on `stream`.
    ///
    /// # Safety
    /// Both ranges must stay valid (and the host one unchanged) until the
    /// stream has done the copy; `stream` is the device's (or 0).
    pub unsafe fn copy_to_device_async(
        self,
        device: u64,
        host: *const c_void,
        bytes: usize,
        stream: usize,
    ) -> Result<(), GpuError> {
        // SAFETY: the caller's contract.
        unsafe {
            match self {
                Gpu::Cuda(gpu) => gpu.copy_to_device_async(device, host, bytes, stream as _),
                #[cfg(feature = "rocm")]
                Gpu::Hip(gpu) => gpu.copy_to_device_async(device, host, bytes, stream as _),
            }
        }
    }

    /// Queues a copy of `bytes` bytes from `device` to `host` on `stream`.
    ///
    /// # Safety
    /// Both ranges must stay valid until the stream has done the copy;
    /// `stream` is the device's (or 0).
    pub unsafe fn copy_to_host_async(
        self,
        host: *mut c_void,
        device: u64,
        bytes: usize,
        stream: usize,
    ) -> Result<(), GpuError> {
        // SAFETY: the caller's contract.
        unsafe {
            match self {
                Gpu::Cuda(gpu) => gpu.copy_to_host_async(host, device, bytes, stream as _),
                #[cfg(feature = "rocm")]
                Gpu::Hip(gpu) => gpu.copy_to_host_async(host, device, bytes, stream as _),
            }
        }
    }

    /// Orders the work queued on `stream` from now on after the work queued
    /// so far on `producer` (no host wait).
    ///
    /// # Safety
    /// Both must be 0, a special handle of the vendor's runtime, or live
    /// streams of this device.
    pub unsafe fn order_after(self, stream: usize, producer: usize) -> Result<(), GpuError> {
        // SAFETY: the caller's contract.
        unsafe {
            match self {
                Gpu::Cuda(gpu) => gpu.order_after(stream as _, producer as _),
                #[cfg(feature = "rocm")]
                Gpu::Hip(gpu) => gpu.order_after(stream as _, producer as _),
            }
        }
    }

    /// Waits for the work queued on `stream`.
    ///
    /// # Safety
    /// `stream` must be 0, a special handle of the vendor's runtime, or a
    /// live stream of this device.
    pub unsafe fn synchronize_stream(self, stream: usize) -> Result<(), GpuError> {
        // SAFETY: the caller's contract.
        unsafe {
            match self {
                Gpu::Cuda(gpu) => gpu.synchronize_stream(stream as _),
                #[cfg(feature = "rocm")]
                Gpu::Hip(gpu) => gpu.synchronize_stream(stream as _),
            }
        }
    }

    /// Waits for everything queued on this device.
    pub fn synchronize(self) -> Result<(), GpuError> {
        match self {
            Gpu::Cuda(gpu) => gpu.synchronize(),
            #[cfg(feature = "rocm")]
            Gpu::Hip(gpu) => gpu.synchronize(),
        }
    }

    /// The scope that sends compiled code's launches to `stream` of this
    /// device.
    pub fn launch_scope(self, stream: usize) -> LaunchScope {
        match self {
            Gpu::Cuda(device) => LaunchScope::Cuda {
                device,
                stream: stream as _,
            },
            #[cfg(feature = "rocm")]
            Gpu::Hip(device) => LaunchScope::Hip {
                device,
                stream: stream as _,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_errors_that_lose_the_context_say_so() {
        let lost = describe_failure(700, "an illegal memory access".into());
        assert!(
            lost.starts_with("an illegal memory access (after this error"),
            "{lost}"
        );
        assert_eq!(describe_failure(2, "out of memory".into()), "out of memory");
    }

    #[test]
    fn amd_gpus_without_a_hip_runtime_say_why() {
        match devices(Vendor::Amd) {
            Ok(found) => assert!(found.iter().all(|g| g.arch().starts_with("gfx"))),
            Err(GpuError::Unavailable(reason)) => {
                assert!(reason.contains("HIP") && reason.contains("AMD"), "{reason}")
            }
            Err(other) => panic!("unexpected: {other}"),
        }
        if let Err(error) = device(Vendor::Amd, 0) {
            assert!(matches!(error, GpuError::Unavailable(_)), "{error}");
        }
        assert_eq!(available(Vendor::Amd).is_ok(), devices(Vendor::Amd).is_ok());
    }
}
