//! Calling a specialisation compiled for a GPU (NVIDIA through CUDA, AMD
//! through HIP when the build has the `rocm` feature).
//!
//! Arrays already on a GPU (`__cuda_array_interface__`, DLPack) are used in
//! place. Host arrays are copied to device memory for the call and back
//! after it, as Parir does. The call runs on the current GPU task's device
//! and stream, or else on the GPU that holds the arrays, on the stream
//! their producer named (by default the legacy default stream, which CuPy
//! and Torch use by default); when arrays name other streams, the call's
//! work is ordered after theirs (`__cuda_array_interface__` version 3 asks
//! that of its consumers). Calls on GPU arrays return without waiting
//! for the kernels, like CuPy and Torch operations; calls with host arrays
//! wait, since their results are copied back.

use crate::arrays::{ArrayView, Location};
use crate::cuda::to_py;
use parla_compiler::gpu::GpuExecutable;
use parla_compiler::jit::{MemrefArgument, PackedArguments};
use parla_runtime::cuda::GpuError;
use parla_runtime::gpu::{self, DeviceMemory, Gpu, Vendor};
use parla_runtime::staging::{staged_ranges, HostSpan};
use pyo3::{exceptions::PyValueError, prelude::*};
use std::cell::Cell;
use std::ffi::c_void;

thread_local! {
    /// The GPU (ordinal) and stream of the GPU task running on this thread.
    static TASK_GPU: Cell<Option<(usize, usize)>> = const { Cell::new(None) };
}

/// Runs `f` as the body of a GPU task on `ordinal`, whose kernels go to
/// `stream`.
pub fn with_task_gpu<R>(ordinal: usize, stream: usize, f: impl FnOnce() -> R) -> R {
    let saved = TASK_GPU.with(|t| t.replace(Some((ordinal, stream))));
    let result = f();
    TASK_GPU.with(|t| t.set(saved));
    result
}

/// The GPU and stream of the GPU task running on this thread.
pub fn task_gpu() -> Option<(usize, usize)> {
    TASK_GPU.with(Cell::get)
}

/// The GPUs `backend='auto'` uses: NVIDIA's when there are any (and inside
/// GPU tasks, which run on them), else AMD's when HIP finds some.
pub fn auto_vendor() -> Vendor {
    let has = |vendor| gpu::available(vendor).is_ok();
    if task_gpu().is_none() && !has(Vendor::Nvidia) && has(Vendor::Amd) {
        Vendor::Amd
    } else {
        Vendor::Nvidia
    }
}

/// Whether `backend='auto'` runs on a GPU: inside a GPU task, or when an
/// array argument is on a GPU (compute follows data).
pub fn auto_picks_gpu(arrays: &[ArrayView]) -> bool {
    task_gpu().is_some()
        || arrays
            .iter()
            .any(|a| matches!(a.location, Location::Gpu { .. }))
}

/// Reads `bytes` bytes at device address `pointer` (a 0-d GPU array).
pub fn read_device_scalar(
    py: Python<'_>,
    pointer: u64,
    target: *mut u8,
    bytes: usize,
) -> PyResult<()> {
    let found = gpu::VENDORS.into_iter().find_map(|vendor| {
        gpu::device_of_pointer(vendor, pointer)
            .ok()
            .flatten()
            .map(|ordinal| (vendor, ordinal))
    });
    let (vendor, ordinal) = found
        .ok_or_else(|| PyValueError::new_err("a 0-d GPU array's address is not GPU memory"))?;
    let device = gpu::device(vendor, ordinal).map_err(to_py)?;
    // Its producer may have used any stream (a GPU task's, CuPy's
    // current one): all of the device's work is waited for first.
    let value = py
        .detach(move || {
            device.synchronize()?;
            let mut value = [0u8; 8];
            // SAFETY: a 0-d array holds one element of `bytes` (<= 8) bytes;
            // the default stream is waited for.
            unsafe {
                device.copy_to_host_async(value.as_mut_ptr().cast(), pointer, bytes, 0)?;
                device.synchronize_stream(0)?;
            }
            Ok(value)
        })
        .map_err(|e: GpuError| to_py(e))?;
    // SAFETY: the caller's target holds `bytes` bytes.
    unsafe { std::ptr::copy_nonoverlapping(value.as_ptr(), target, bytes) };
    Ok(())
}

/// Where a call runs.
pub struct Placement {
    pub device: Gpu,
    /// A stream as an address (0: the default stream).
    pub stream: usize,
    /// Other streams the arrays' producers named
    /// (`__cuda_array_interface__`'s `stream`, DLPack's): the call's work
    /// is ordered after what they queued so far.
    pub producers: Vec<usize>,
}

/// The device and stream of a call with `arrays` on a GPU of `vendor`.
pub fn placement(arrays: &[ArrayView], vendor: Vendor) -> PyResult<Placement> {
    gpu::available(vendor).map_err(to_py)?;
    let runtime = match vendor {
        Vendor::Nvidia => "CUDA driver",
        Vendor::Amd => "HIP runtime",
    };
    let mut found: Option<(usize, usize)> = None; // (array index, ordinal)
    for (index, array) in arrays.iter().enumerate() {
        // Empty GPU arrays may have no memory at all (address 0 in CuPy
        // and Torch): they are on no GPU in particular.
        if !matches!(array.location, Location::Gpu { .. }) || array.info.shape.contains(&0) {
            continue;
        }
        let ordinal = gpu::device_of_pointer(vendor, array.data as u64)
            .map_err(to_py)?
            .ok_or_else(|| {
                PyValueError::new_err(format!(
                    "array argument {index} says it is on a GPU, but the {runtime} does not know its address"
                ))
            })?;
        match found {
            Some((first, other)) if other != ordinal => {
                return Err(PyValueError::new_err(format!(
                    "array arguments {first} and {index} are on different GPUs ({other} and {ordinal}): one call runs on one GPU"
                )))
            }
            _ => found = Some((index, ordinal)),
        }
    }
    if let Some((ordinal, stream)) = task_gpu() {
        if vendor == Vendor::Amd {
            return Err(PyValueError::new_err(
                "backend='rocm' inside a GPU task: Parla's GPU tasks run on NVIDIA GPUs; \
                 call AMD kernels outside GPU tasks",
            ));
        }
        if let Some((index, other)) = found.filter(|(_, o)| *o != ordinal) {
            return Err(PyValueError::new_err(format!(
                "array argument {index} is on GPU {other}, but this task runs on GPU {ordinal}; copy it there first"
            )));
        }
        let device = gpu::device(vendor, ordinal).map_err(to_py)?;
        let producers = producers(arrays, vendor, stream);
        return Ok(Placement {
            device,
            stream,
            producers,
        });
    }
    let ordinal = found.map_or(0, |(_, o)| o);
    let stream = array_streams(arrays, vendor).next().unwrap_or(0);
    let device = gpu::device(vendor, ordinal).map_err(to_py)?;
    let producers = producers(arrays, vendor, stream);
    Ok(Placement {
        device,
        stream,
        producers,
    })
}

/// The streams `arrays`' producers named, in order, as `vendor`'s runtime
/// takes them: 1 and 2 are the handles of CUDA's legacy and per-thread
/// default streams (CU_STREAM_LEGACY, CU_STREAM_PER_THREAD) as they are;
/// HIP has no legacy-stream handle, and its null stream plays that part.
fn array_streams(arrays: &[ArrayView], vendor: Vendor) -> impl Iterator<Item = usize> + '_ {
    arrays
        .iter()
        .filter_map(|a| match a.location {
            Location::Gpu { stream } => stream,
            Location::Host => None,
        })
        .map(move |stream| match (vendor, stream) {
            (Vendor::Amd, 1) => 0,
            _ => stream,
        })
}

/// The distinct streams of `arrays` other than `stream`, the call's.
fn producers(arrays: &[ArrayView], vendor: Vendor, stream: usize) -> Vec<usize> {
    let mut producers: Vec<usize> = Vec::new();
    for producer in array_streams(arrays, vendor) {
        if producer != stream && !producers.contains(&producer) {
            producers.push(producer);
        }
    }
    producers
}

/// A host array's copy on the device, for one call.
struct Staged {
    buffer: DeviceMemory,
    /// The host address of the lowest element (an address, so that the
    /// copies can run without the GIL).
    host: usize,
    copy_back: bool,
}

/// The bytes an array's elements span, as (lowest element offset, count of
/// elements from there to the highest).
fn span(array: &ArrayView) -> (i64, i64) {
    let (mut low, mut high) = (0i64, 0i64);
    for (&extent, &stride) in array.info.shape.iter().zip(&array.info.strides) {
        if extent == 0 {
            return (0, 0);
        }
        let reach = (extent - 1) * stride;
        if reach < 0 {
            low += reach;
        } else {
            high += reach;
        }
    }
    (low, high - low + 1)
}

/// The device addresses of a call's arrays: GPU arrays as they are, host
/// arrays copied to device memory (queued on the call's stream).
pub struct Staging {
    device: Gpu,
    stream: usize,
    staged: Vec<Staged>,
    /// The device address of element 0 of each array, in order.
    pub pointers: Vec<*mut c_void>,
}

impl Staging {
    /// Stages `arrays` for a call at `placement`. `written` says, per
    /// array, whether the call may write it (None: any array): only those
    /// are copied back. Host arrays whose bytes overlap (the very same
    /// array twice, interleaved views) are staged as one range, so that
    /// writes through any of them reach it and no copy back of one
    /// overwrites another's results.
    pub fn new<'a>(
        py: Python<'_>,
        placement: &Placement,
        arrays: impl IntoIterator<Item = &'a ArrayView>,
        written: Option<&[bool]>,
    ) -> PyResult<Self> {
        let device = placement.device;
        let stream = placement.stream;
        let arrays: Vec<&ArrayView> = arrays.into_iter().collect();
        let writes = |index: usize| written.is_none_or(|w| w.get(index).copied().unwrap_or(true));
        // Where each array's element 0 is: a device address, or an offset
        // in bytes from the start of a staged range.
        enum Source {
            Device(*mut c_void),
            Staged { range: usize, offset: i64 },
        }
        let producers = placement.producers.clone();
        // Host arrays whose bytes overlap share one staged range.
        let spans: Vec<Option<HostSpan>> = arrays
            .iter()
            .enumerate()
            .map(|(index, array)| match array.location {
                Location::Gpu { .. } => None,
                Location::Host => {
                    let item = array.info.dtype.bytes() as i64;
                    let (low, count) = span(array);
                    let first = (array.data as i64 + low * item) as usize;
                    Some(HostSpan {
                        first,
                        end: first + (count * item) as usize,
                        copy_back: writes(index) && !array.readonly,
                    })
                }
            })
            .collect();
        let (ranges, range_of) = staged_ranges(&spans);
        let sources: Vec<Source> = arrays
            .iter()
            .zip(&range_of)
            .map(|(array, range)| match *range {
                Some(range) => Source::Staged {
                    range,
                    offset: array.data as i64 - ranges[range].host as i64,
                },
                None => Source::Device(array.data),
            })
            .collect();
        // Copies from pageable host memory return only once staged: the
        // other Python threads run meanwhile.
        let (staged, queued) = py.detach(move || {
            let mut staged = Vec::with_capacity(ranges.len());
            // SAFETY: streams the arrays' producers named, theirs to keep
            // alive while their arrays are in use.
            let ordered = producers
                .iter()
                .try_for_each(|&producer| unsafe { device.order_after(stream, producer) });
            let queued = ordered.and_then(|()| {
                ranges.into_iter().try_for_each(|range| {
                    let buffer = device.alloc(range.bytes)?;
                    // SAFETY: the host range is an array's (the caller holds
                    // it); the buffer holds `bytes`; the staging waits for the
                    // stream before the buffer is freed.
                    let copied = match range.bytes {
                        0 => Ok(()),
                        bytes => unsafe {
                            device.copy_to_device_async(
                                buffer.pointer(),
                                range.host as *const c_void,
                                bytes,
                                stream,
                            )
                        },
                    };
                    staged.push(Staged {
                        buffer,
                        host: range.host,
                        copy_back: range.copy_back,
                    });
                    copied
                })
            });
            (staged, queued)
        });
        let pointers = sources
            .iter()
            .map(|source| match *source {
                Source::Device(pointer) => pointer,
                Source::Staged { range, offset } => {
                    staged.get(range).map_or(std::ptr::null_mut(), |s| {
                        (s.buffer.pointer() as i64 + offset) as *mut c_void
                    })
                }
            })
            .collect();
        let staging = Staging {
            device,
            stream,
            staged,
            pointers,
        };
        queued.map_err(to_py)?;
        Ok(staging)
    }

    /// After the launches (`launched`): copies the written host arrays
    /// back and waits for them. GPU arrays alone are not waited for.
    pub fn finish(mut self, py: Python<'_>, launched: Result<(), GpuError>) -> PyResult<()> {
        if self.staged.is_empty() {
            return launched.map_err(to_py);
        }
        let (device, stream) = (self.device, self.stream);
        let staged = std::mem::take(&mut self.staged);
        let finished = py.detach(move || {
            let copied = launched.and_then(|()| {
                staged
                    .iter()
                    .filter(|s| s.copy_back && s.buffer.bytes() > 0)
                    .try_for_each(|copy| {
                        // SAFETY: the host range is the array's, alive and
                        // writable; the buffer is freed only after the wait.
                        unsafe {
                            device.copy_to_host_async(
                                copy.host as *mut c_void,
                                copy.buffer.pointer(),
                                copy.buffer.bytes(),
                                stream,
                            )
                        }
                    })
            });
            // SAFETY: the call's stream: the task's, a producer's (theirs to
            // keep alive while their arrays are in use), or the default one.
            // Host arrays are read, and the copies freed, only after it.
            let waited = unsafe { device.synchronize_stream(stream) };
            drop(staged);
            copied.and(waited)
        });
        finished.map_err(to_py)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.staged.is_empty() {
            // An early error: do not free memory a queued copy may still use.
            // SAFETY: the call's stream, as in `wait`.
            let _ = unsafe { self.device.synchronize_stream(self.stream) };
        }
    }
}

/// Runs `executable` with `arrays` (named in messages by `name`) at
/// `placement`. With bounds checks, the call waits for its kernels and a
/// failing access is an IndexError.
pub fn run(
    py: Python<'_>,
    executable: &GpuExecutable,
    arrays: &[ArrayView],
    placement: &Placement,
    name: &dyn Fn(usize) -> String,
) -> PyResult<()> {
    // The kernels' error word, staged like a host array: copied in (zero),
    // and back after the call, which then waits for the stream.
    crate::arrays::check_arrays(
        arrays,
        &executable.program.written,
        usize::from(executable.program.checks.is_some()),
        name,
    )?;
    let mut error = [0i64; 1];
    let word = executable
        .program
        .checks
        .as_ref()
        .map(|_| ArrayView::error_word(error.as_mut_ptr()));
    let all = || word.iter().chain(arrays);
    let staging = Staging::new(py, placement, all(), Some(&executable.program.written))?;
    let mut packed = PackedArguments::with_capacity((arrays.len() + 1) * 7);
    for (array, &data) in all().zip(&staging.pointers) {
        packed.push_memref(&MemrefArgument {
            data,
            offset: 0,
            sizes: array.info.shape.clone(),
            strides: array.info.strides.clone(),
        });
    }
    let entry = executable.entry;
    let (device, stream) = (placement.device, placement.stream);
    let launched = py.detach(move || {
        let scope = device.launch_scope(stream);
        // SAFETY: the arguments are the memrefs the host function takes, in
        // order; the arrays stay alive (the caller holds them, and staged
        // copies live until the stream is done with them).
        let ((), report) = scope.run(|| unsafe { packed.call(entry) });
        report.map(|_| ())
    });
    staging.finish(py, launched)?;
    crate::parir::failed_check(executable.program.checks.as_deref(), error[0])
}

/// Waits for every kernel launched on every GPU (`parir.sync()`).
pub fn synchronize_all(py: Python<'_>) -> PyResult<()> {
    // No GPUs of a vendor: nothing was launched there.
    let gpus: Vec<Gpu> = gpu::VENDORS
        .into_iter()
        .flat_map(|vendor| gpu::devices(vendor).unwrap_or_default())
        .collect();
    py.detach(|| gpus.into_iter().try_for_each(Gpu::synchronize))
        .map_err(|e: GpuError| to_py(e))
}
