//! The compiler end to end: IR in, native code out, run on the worker
//! pool. One test binary for the crate (every binary links MLIR).

use melior::ir::Module;
use parla_compiler::jit::{lower_to_llvm, Engine, MemrefArgument, PackedArguments};
use parla_runtime::gpu::{self, Vendor};

const ROW_SUMS: &str = r#"
func.func @rowsum(%x: memref<?x?xf32>, %y: memref<?xf32>, %total: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %x, %c0 : memref<?x?xf32>
  %m = memref.dim %x, %c1 : memref<?x?xf32>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %zero = arith.constant 0.0 : f32
    %s = scf.for %j = %c0 to %m step %c1 iter_args(%acc = %zero) -> f32 {
      %v = memref.load %x[%i, %j] : memref<?x?xf32>
      %a = arith.addf %acc, %v fastmath<reassoc> : f32
      scf.yield %a : f32
    }
    memref.store %s, %y[%i] : memref<?xf32>
    scf.reduce
  }
  %zero = arith.constant 0.0 : f32
  %r = scf.parallel (%i) = (%c0) to (%n) step (%c1) init (%zero) -> f32 {
    %v = memref.load %y[%i] : memref<?xf32>
    scf.reduce(%v : f32) {
    ^bb0(%a: f32, %b: f32):
      %s = arith.addf %a, %b : f32
      scf.reduce.return %s : f32
    }
  }
  memref.store %r, %total[%c0] : memref<1xf32>
  return
}
"#;

fn memref(data: &mut [f32], sizes: &[i64]) -> MemrefArgument {
    let mut strides = vec![1i64; sizes.len()];
    for d in (0..sizes.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * sizes[d + 1];
    }
    MemrefArgument {
        data: data.as_mut_ptr().cast(),
        offset: 0,
        sizes: sizes.to_vec(),
        strides,
    }
}

#[test]
fn parallel_loops_and_reductions_run_on_the_pool() {
    let context = parla_dialects::create_context().unwrap();
    let mut module = Module::parse(&context, ROW_SUMS).unwrap();
    lower_to_llvm(&context, &mut module).unwrap();
    let engine = Engine::new(&context, &module, 3).unwrap();
    let function = engine.packed("rowsum").unwrap();
    for (n, m) in [(1usize, 1usize), (7, 3), (64, 33), (1000, 17)] {
        let mut x: Vec<f32> = (0..n * m).map(|k| (k % 13) as f32).collect();
        let mut y = vec![0f32; n];
        let mut total = vec![0f32; 1];
        let mut arguments = PackedArguments::default();
        arguments.push_memref(&memref(&mut x, &[n as i64, m as i64]));
        arguments.push_memref(&memref(&mut y, &[n as i64]));
        arguments.push_memref(&memref(&mut total, &[1]));
        unsafe { arguments.call(function) };
        let expected: Vec<f32> = (0..n).map(|i| x[i * m..(i + 1) * m].iter().sum()).collect();
        assert_eq!(y, expected, "{n}x{m}");
        assert_eq!(total[0], expected.iter().sum::<f32>(), "{n}x{m}");
    }
}

#[test]
fn a_missing_function_is_an_error() {
    let context = parla_dialects::create_context().unwrap();
    let mut module = Module::parse(&context, "func.func @f() { return }").unwrap();
    lower_to_llvm(&context, &mut module).unwrap();
    let engine = Engine::new(&context, &module, 0).unwrap();
    assert!(engine.packed("f").is_ok());
    assert!(engine.packed("g").is_err());
}

const LOOPPAR_REDUCTIONS: &str = r#"
func.func @reduce(%x: memref<1000xf32>, %sum: memref<1xf32>, %big: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 1000 : index
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<1000xf32>
    %old = memref.load %sum[%c0] : memref<1xf32>
    %new = arith.addf %old, %v : f32
    memref.store %new, %sum[%c0] : memref<1xf32>
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 1000 : i64} : (index, index, index) -> ()
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<1000xf32>
    %old = memref.load %big[%c0] : memref<1xf32>
    %new = arith.maximumf %v, %old : f32
    memref.store %new, %big[%c0] : memref<1xf32>
    "looppar.yield"() : () -> ()
  }) {label = "M", threads = 1000 : i64} : (index, index, index) -> ()
  return
}
"#;

/// Reductions written as loads and stores in looppar IR are detected,
/// lowered to parallel reductions, and compute the right values.
#[test]
fn detected_reductions_run_in_parallel_and_are_right() {
    let context = parla_dialects::create_context().unwrap();
    let mut module = Module::parse(&context, LOOPPAR_REDUCTIONS).unwrap();
    parla_compiler::jit::run_pipeline(
        &context,
        &mut module,
        "builtin.module(looppar-detect-reductions,looppar-check-races,looppar-to-scf)",
    )
    .unwrap();
    let text = module.as_operation().to_string();
    assert_eq!(text.matches("scf.parallel").count(), 2, "{text}");
    lower_to_llvm(&context, &mut module).unwrap();
    let engine = Engine::new(&context, &module, 2).unwrap();
    let function = engine.packed("reduce").unwrap();
    let mut x: Vec<f32> = (0..1000).map(|k| ((k * 37) % 101) as f32).collect();
    let mut sum = vec![5f32];
    let mut big = vec![-1f32];
    let mut arguments = PackedArguments::default();
    arguments.push_memref(&memref(&mut x, &[1000]));
    arguments.push_memref(&memref(&mut sum, &[1]));
    arguments.push_memref(&memref(&mut big, &[1]));
    unsafe { arguments.call(function) };
    assert_eq!(sum[0], 5.0 + x.iter().sum::<f32>());
    assert_eq!(big[0], 100.0);
}

/// A host loop that launches a kernel four times: each launch doubles
/// `a[i]` for i < n (one block per element).
const HOST_LOOP_OF_LAUNCHES: &str = r#"
func.func @twice_four_times(%a: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %n = memref.dim %a, %c0 : memref<?xf32>
  scf.for %k = %c0 to %c4 step %c1 {
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %n, %gy = %c1, %gz = %c1)
               threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
      %v = memref.load %a[%bx] : memref<?xf32>
      %w = arith.addf %v, %v : f32
      memref.store %w, %a[%bx] : memref<?xf32>
      gpu.terminator
    }
  }
  return
}
"#;

/// AMD kernels are linked into code objects HIP can load: ELF shared
/// objects for the AMDGPU machine, with the kernel's descriptor.
#[test]
fn amd_kernels_link_into_loadable_code_objects() {
    use parla_compiler::gpu::{executable_from_ir, loadable_code, GpuTarget};

    let target = GpuTarget::Rocm {
        chip: "gfx90a".into(),
    };
    let objects = loadable_code(
        &format!("module attributes {{gpu.container_module}} {{ {HOST_LOOP_OF_LAUNCHES} }}"),
        &target,
    )
    .expect("links");
    assert_eq!(objects.len(), 1);
    let elf = &objects[0];
    assert_eq!(&elf[..4], b"\x7fELF");
    const ET_DYN: u16 = 3;
    const EM_AMDGPU: u16 = 224;
    assert_eq!(u16::from_le_bytes([elf[16], elf[17]]), ET_DYN);
    assert_eq!(u16::from_le_bytes([elf[18], elf[19]]), EM_AMDGPU);
    let descriptor = b"twice_four_times_kernel.kd";
    assert!(
        elf.windows(descriptor.len()).any(|w| w == descriptor),
        "the kernel descriptor symbol is in the object"
    );

    // The executable embeds it; its host code is JIT-compiled for the
    // runtime's launch entry points as for NVIDIA.
    let executable = executable_from_ir(HOST_LOOP_OF_LAUNCHES, "twice_four_times", &target)
        .expect("the host code compiles");
    assert!(
        executable.program.device_code[0].contains("ELF code object"),
        "{:?}",
        executable.program.device_code
    );
    // Without the rocm feature, AMD GPUs are "unavailable": skipped.
    run_four_doublings(&executable, Vendor::Amd);
}

/// Runs the host loop of four launches (each doubles every element) on GPU
/// 0 of `vendor`, when there is one, and checks the result.
fn run_four_doublings(executable: &parla_compiler::gpu::GpuExecutable, vendor: Vendor) {
    let device = match gpu::device(vendor, 0) {
        Ok(device) => device,
        Err(reason) => {
            eprintln!("skipped the {vendor:?} GPU run: {reason}");
            return;
        }
    };
    let n = 1000usize;
    let buffer = device.alloc(n * 4).unwrap();
    let host: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let mut out = vec![0f32; n];
    let ((), report) = device.launch_scope(0).run(|| unsafe {
        device
            .copy_to_device_async(buffer.pointer(), host.as_ptr().cast(), n * 4, 0)
            .unwrap();
        let mut packed = PackedArguments::default();
        packed.push_memref(&MemrefArgument {
            data: buffer.pointer() as *mut std::ffi::c_void,
            offset: 0,
            sizes: vec![n as i64],
            strides: vec![1],
        });
        packed.call(executable.entry);
    });
    assert_eq!(report.expect("launched").launches, 4);
    unsafe {
        device
            .copy_to_host_async(out.as_mut_ptr().cast(), buffer.pointer(), n * 4, 0)
            .unwrap();
        device.synchronize_stream(0).unwrap();
    }
    for (i, value) in out.iter().enumerate() {
        assert_eq!(*value, 16.0 * i as f32);
    }
}

#[test]
fn gpu_host_code_launches_through_the_runtime() {
    use parla_compiler::gpu::{executable_from_ir, GpuTarget};
    use parla_runtime::launch;

    let target = GpuTarget::Cuda {
        chip: "sm_80".into(),
        libdevice: None,
    };
    let executable = executable_from_ir(HOST_LOOP_OF_LAUNCHES, "twice_four_times", &target)
        .expect("the host code compiles");
    assert_eq!(executable.program.device_code.len(), 1);
    assert!(executable.program.device_code[0].contains(".entry"));

    // With no device chosen, the compiled host code runs and its launches
    // fail with an error instead of crashing.
    let mut data = vec![1.0f32; 8];
    let ((), error) = launch::without_scope(|| {
        let mut packed = PackedArguments::default();
        packed.push_memref(&memref(&mut data, &[8]));
        unsafe { packed.call(executable.entry) };
    });
    let error = error.expect("launching needs a device");
    assert!(error.to_string().contains("no GPU chosen"), "{error}");
    assert_eq!(data, vec![1.0; 8], "nothing ran");

    run_four_doublings(&executable, Vendor::Nvidia);
}

/// Device memory that two kernels share (a local of `with parir.gpu:`
/// code): allocated and freed in the call's stream order.
const KERNELS_SHARING_DEVICE_MEMORY: &str = r#"
func.func @tripled(%a: memref<2xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %three = arith.constant 3.0 : f32
  %t0 = gpu.wait async
  %m, %t1 = gpu.alloc async [%t0] () : memref<f32>
  gpu.wait [%t1]
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %v = memref.load %a[%c0] : memref<2xf32>
    %w = arith.mulf %v, %three : f32
    memref.store %w, %m[] : memref<f32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %v = memref.load %m[] : memref<f32>
    memref.store %v, %a[%c1] : memref<2xf32>
    gpu.terminator
  }
  %t2 = gpu.wait async
  %t3 = gpu.dealloc async [%t2] %m : memref<f32>
  gpu.wait [%t3]
  return
}
"#;

#[test]
fn device_memory_of_host_code_comes_from_the_runtime() {
    use parla_compiler::gpu::{executable_from_ir, GpuTarget};
    use parla_runtime::launch;

    let target = GpuTarget::Cuda {
        chip: "sm_80".into(),
        libdevice: None,
    };
    let executable = executable_from_ir(KERNELS_SHARING_DEVICE_MEMORY, "tripled", &target)
        .expect("the host code compiles");
    // With no device chosen, the allocation fails first and nothing runs.
    let mut data = vec![2.0f32, 0.0];
    let ((), error) = launch::without_scope(|| {
        let mut packed = PackedArguments::default();
        packed.push_memref(&memref(&mut data, &[2]));
        unsafe { packed.call(executable.entry) };
    });
    let error = error.expect("allocating needs a device");
    assert!(error.to_string().contains("no GPU chosen"), "{error}");
    assert_eq!(data, vec![2.0, 0.0], "nothing ran");

    let device = match gpu::device(Vendor::Nvidia, 0) {
        Ok(device) => device,
        Err(reason) => {
            eprintln!("skipped the GPU run: {reason}");
            return;
        }
    };
    let buffer = device.alloc(8).unwrap();
    let host = [2.0f32, 0.0];
    let mut out = [0f32; 2];
    let ((), report) = device.launch_scope(0).run(|| unsafe {
        device
            .copy_to_device_async(buffer.pointer(), host.as_ptr().cast(), 8, 0)
            .unwrap();
        let mut packed = PackedArguments::default();
        packed.push_memref(&MemrefArgument {
            data: buffer.pointer() as *mut std::ffi::c_void,
            offset: 0,
            sizes: vec![2],
            strides: vec![1],
        });
        packed.call(executable.entry);
    });
    assert_eq!(report.expect("launched").launches, 2);
    unsafe {
        device
            .copy_to_host_async(out.as_mut_ptr().cast(), buffer.pointer(), 8, 0)
            .unwrap();
        device.synchronize_stream(0).unwrap();
    }
    assert_eq!(out, [2.0, 6.0]);
}
