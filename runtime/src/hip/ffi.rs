//! The HIP functions this module calls, declared with their status as a
//! plain integer.
//!
//! `hip-sys` (which links libamdhip64 and defines the handle and property
//! types used here) declares the status as a Rust enum: a runtime newer
//! than its bindings may return a code the enum lacks, and reading such a
//! value as the enum is undefined behaviour. Declared as `c_int`, every
//! status is a value, and unknown ones still get their name from
//! `hipGetErrorName`.

use hip_sys::hiprt::{
    hipDeviceProp_t, hipDevice_t, hipEvent_t, hipFunction_t, hipModule_t, hipPointerAttribute_t,
    hipStream_t,
};
use std::ffi::{c_char, c_int, c_uint, c_void};

/// A `hipError_t`.
pub type Status = c_int;
pub const SUCCESS: Status = 0;

unsafe extern "C" {
    pub fn hipGetErrorName(status: Status) -> *const c_char;
    pub fn hipGetErrorString(status: Status) -> *const c_char;
    pub fn hipInit(flags: c_uint) -> Status;
    pub fn hipGetDeviceCount(count: *mut c_int) -> Status;
    pub fn hipDeviceGet(device: *mut hipDevice_t, ordinal: c_int) -> Status;
    pub fn hipDeviceGetName(name: *mut c_char, length: c_int, device: hipDevice_t) -> Status;
    pub fn hipDeviceTotalMem(bytes: *mut usize, device: hipDevice_t) -> Status;
    /// The unversioned symbol fills the ROCm 5 layout of the properties
    /// (`R0000`, which hip-sys's struct has); ROCm 6 headers route C callers
    /// to `hipGetDevicePropertiesR0600` instead, but every library still
    /// exports this one.
    pub fn hipGetDeviceProperties(properties: *mut hipDeviceProp_t, ordinal: c_int) -> Status;
    pub fn hipSetDevice(ordinal: c_int) -> Status;
    pub fn hipGetDevice(ordinal: *mut c_int) -> Status;
    pub fn hipDeviceSynchronize() -> Status;
    pub fn hipStreamCreate(stream: *mut hipStream_t) -> Status;
    pub fn hipStreamSynchronize(stream: hipStream_t) -> Status;
    pub fn hipStreamWaitEvent(stream: hipStream_t, event: hipEvent_t, flags: c_uint) -> Status;
    pub fn hipEventCreate(event: *mut hipEvent_t) -> Status;
    pub fn hipEventRecord(event: hipEvent_t, stream: hipStream_t) -> Status;
    pub fn hipEventSynchronize(event: hipEvent_t) -> Status;
    pub fn hipEventDestroy(event: hipEvent_t) -> Status;
    pub fn hipPointerGetAttributes(
        attributes: *mut hipPointerAttribute_t,
        pointer: *const c_void,
    ) -> Status;
    pub fn hipMalloc(pointer: *mut *mut c_void, bytes: usize) -> Status;
    pub fn hipFree(pointer: *mut c_void) -> Status;
    pub fn hipMemcpyHtoDAsync(
        device: *mut c_void,
        host: *mut c_void,
        bytes: usize,
        stream: hipStream_t,
    ) -> Status;
    pub fn hipMemcpyDtoHAsync(
        host: *mut c_void,
        device: *mut c_void,
        bytes: usize,
        stream: hipStream_t,
    ) -> Status;
    pub fn hipModuleLoadData(module: *mut hipModule_t, image: *const c_void) -> Status;
    pub fn hipModuleUnload(module: hipModule_t) -> Status;
    pub fn hipModuleGetFunction(
        function: *mut hipFunction_t,
        module: hipModule_t,
        name: *const c_char,
    ) -> Status;
    #[allow(clippy::too_many_arguments)]
    pub fn hipModuleLaunchKernel(
        function: hipFunction_t,
        grid_x: c_uint,
        grid_y: c_uint,
        grid_z: c_uint,
        block_x: c_uint,
        block_y: c_uint,
        block_z: c_uint,
        shared_bytes: c_uint,
        stream: hipStream_t,
        parameters: *mut *mut c_void,
        extra: *mut *mut c_void,
    ) -> Status;
}
