//! The typed builders, checked by snapshots of the IR they print and by
//! the verifier accepting it. One test binary for the crate: every binary
//! that links MLIR is large and slow to link.

use melior::{
    dialect::{arith, func},
    ir::{
        attribute::{StringAttribute, TypeAttribute},
        r#type::{FunctionType, MemRefType},
        Block, BlockLike, Location, Module, Region, RegionLike, Type, Value,
    },
    Context,
};
use parla_dialects::{
    create_context, device, device::Device, looppar, looppar::Parallelism, looppar::ReduceKind,
    looppar::SliceDim, task, task::ops::SpawnOptions, verify, verify_semantics,
};

/// Wraps the ops that `build` appends to a block in `func.func @test` with
/// the given argument types, verifies the module and returns its text.
fn function<'c>(
    context: &'c Context,
    arguments: &[Type<'c>],
    build: impl for<'b> FnOnce(&'b Block<'c>),
) -> String {
    let location = Location::unknown(context);
    let module = Module::new(location);
    let block = Block::new(&arguments.iter().map(|t| (*t, location)).collect::<Vec<_>>());
    build(&block);
    block.append_operation(func::r#return(&[], location));
    let region = Region::new();
    region.append_block(block);
    module.body().append_operation(func::func(
        context,
        StringAttribute::new(context, "test"),
        TypeAttribute::new(FunctionType::new(context, arguments, &[]).into()),
        region,
        &[],
        location,
    ));
    let op = module.as_operation();
    assert!(verify(&op), "the built IR does not verify:\n{op}");
    assert!(verify_semantics(&op).is_empty());
    op.to_string()
}

fn index_constant<'c, 'a>(context: &'c Context, block: &'a Block<'c>, value: i64) -> Value<'c, 'a> {
    let location = Location::unknown(context);
    block
        .append_operation(arith::constant(
            context,
            melior::ir::attribute::IntegerAttribute::new(Type::index(context), value).into(),
            location,
        ))
        .result(0)
        .unwrap()
        .into()
}

#[test]
fn task_graph() {
    let context = create_context().unwrap();
    let location = Location::unknown(&context);
    let text = function(&context, &[], |block| {
        let graph_block = Block::new(&[]);
        let c0 = index_constant(&context, &graph_block, 0);
        let c1 = index_constant(&context, &graph_block, 1);
        let c4 = index_constant(&context, &graph_block, 4);
        let space = graph_block
            .append_operation(task::ops::create_space(&context, "T", location).unwrap())
            .result(0)
            .unwrap()
            .into();
        let t0: Value = graph_block
            .append_operation(task::ops::id(&context, space, &[c0], location).unwrap())
            .result(0)
            .unwrap()
            .into();
        let t4: Value = graph_block
            .append_operation(task::ops::id(&context, space, &[c4], location).unwrap())
            .result(0)
            .unwrap()
            .into();
        let first: Value = graph_block
            .append_operation(task::ops::slice(&context, space, &[(c0, c1)], location).unwrap())
            .result(0)
            .unwrap()
            .into();

        let body = Block::new(&[]);
        body.append_operation(task::ops::r#yield(&[], location).unwrap());
        let region = Region::new();
        region.append_block(body);
        graph_block.append_operation(
            task::ops::spawn(
                &context,
                t0,
                &[],
                &[],
                &SpawnOptions::default(),
                region,
                location,
            )
            .unwrap(),
        );

        let body = Block::new(&[]);
        let value = body
            .append_operation(
                task::ops::r#await(&context, &[t0], &[], Some(Type::index(&context)), location)
                    .unwrap(),
            )
            .result(0)
            .unwrap()
            .into();
        body.append_operation(task::ops::r#await(&context, &[], &[first], None, location).unwrap());
        body.append_operation(task::ops::r#yield(&[value], location).unwrap());
        let region = Region::new();
        region.append_block(body);
        let options = SpawnOptions {
            placement: vec![Device::Gpu(1), Device::AnyGpu, Device::Cpu],
            vcus: 0.5,
            memory: 1 << 20,
            is_async: true,
        };
        graph_block.append_operation(
            task::ops::spawn(&context, t4, &[t0], &[first], &options, region, location).unwrap(),
        );
        graph_block.append_operation(task::ops::r#yield(&[], location).unwrap());
        let region = Region::new();
        region.append_block(graph_block);
        block.append_operation(task::ops::graph(region, location).unwrap());
    });
    insta::assert_snapshot!(text);
}

#[test]
fn device_movement() {
    let context = create_context().unwrap();
    let location = Location::unknown(&context);
    let buffer: Type = MemRefType::new(Type::float32(&context), &[i64::MIN], None, None).into();
    let text = function(&context, &[Type::index(&context)], |block| {
        let n: Value = block.argument(0).unwrap().into();
        block.append_operation(
            device::ops::resources(&context, Device::Gpu(0), 1.0, 80 << 30, location).unwrap(),
        );
        let host: Value = block
            .append_operation(
                device::ops::alloc(&context, Device::Cpu, buffer, &[n], location).unwrap(),
            )
            .result(0)
            .unwrap()
            .into();
        let gpu: Value = block
            .append_operation(
                device::ops::alloc(&context, Device::Gpu(0), buffer, &[n], location).unwrap(),
            )
            .result(0)
            .unwrap()
            .into();
        block.append_operation(
            device::ops::copy(&context, host, gpu, Device::Cpu, Device::Gpu(0), location).unwrap(),
        );
        block.append_operation(device::ops::free(&context, Device::Gpu(0), gpu, location).unwrap());
        block.append_operation(device::ops::free(&context, Device::Cpu, host, location).unwrap());
    });
    insta::assert_snapshot!(text);
}

#[test]
fn looppar_sum_rows() {
    let context = create_context().unwrap();
    let location = Location::unknown(&context);
    let f32 = Type::float32(&context);
    let matrix: Type = MemRefType::new(f32, &[i64::MIN, i64::MIN], None, None).into();
    let vector: Type = MemRefType::new(f32, &[i64::MIN], None, None).into();
    let index = Type::index(&context);
    let text = function(&context, &[matrix, vector, index, index], |block| {
        let x: Value = block.argument(0).unwrap().into();
        let y: Value = block.argument(1).unwrap().into();
        let n: Value = block.argument(2).unwrap().into();
        let m: Value = block.argument(3).unwrap().into();
        let c0 = index_constant(&context, block, 0);
        let c1 = index_constant(&context, block, 1);
        block.append_operation(
            looppar::ops::parallelize(
                &context,
                "N",
                Parallelism::Threads {
                    threads: 64,
                    threads_per_block: None,
                    reduce: false,
                },
                location,
            )
            .unwrap(),
        );
        block.append_operation(
            looppar::ops::parallelize(
                &context,
                "M",
                Parallelism::Threads {
                    threads: 128,
                    threads_per_block: Some(128),
                    reduce: true,
                },
                location,
            )
            .unwrap(),
        );
        block.append_operation(
            looppar::ops::parallelize(&context, "K", Parallelism::Sequential, location).unwrap(),
        );

        let inner = Block::new(&[(index, location)]);
        inner.append_operation(looppar::ops::r#yield(&[], location).unwrap());
        let inner_region = Region::new();
        inner_region.append_block(inner);
        let outer = Block::new(&[(index, location)]);
        outer.append_operation(
            looppar::ops::r#for(&context, c0, m, c1, Some("M"), inner_region, location).unwrap(),
        );
        outer.append_operation(looppar::ops::r#yield(&[], location).unwrap());
        let outer_region = Region::new();
        outer_region.append_block(outer);
        block.append_operation(
            looppar::ops::r#for(&context, c0, n, c1, Some("N"), outer_region, location).unwrap(),
        );

        // y[:] = parir.sum(x[:, :], axis=1)
        let xs: Value = block
            .append_operation(
                looppar::ops::slice(
                    &context,
                    x,
                    f32,
                    &[SliceDim::Full, SliceDim::Full],
                    &[],
                    location,
                )
                .unwrap(),
            )
            .result(0)
            .unwrap()
            .into();
        let ys: Value = block
            .append_operation(
                looppar::ops::slice(&context, y, f32, &[SliceDim::Full], &[], location).unwrap(),
            )
            .result(0)
            .unwrap()
            .into();
        let row_view = looppar::view_type(&context, f32, 1).unwrap();
        let sums: Value = block
            .append_operation(
                looppar::ops::reduce(
                    &context,
                    xs,
                    None,
                    ReduceKind::Sum,
                    Some(1),
                    row_view,
                    location,
                )
                .unwrap(),
            )
            .result(0)
            .unwrap()
            .into();
        block.append_operation(looppar::ops::assign(&context, ys, sums, &["N"], location).unwrap());

        // y[:] = x[0, :] * 2 via map/element, inside `with parir.gpu:`
        let row: Value = block
            .append_operation(
                looppar::ops::slice(
                    &context,
                    x,
                    f32,
                    &[SliceDim::Point, SliceDim::Full],
                    &[c0],
                    location,
                )
                .unwrap(),
            )
            .result(0)
            .unwrap()
            .into();
        let map_body = Block::new(&[(index, location)]);
        let j: Value = map_body.argument(0).unwrap().into();
        let element: Value = map_body
            .append_operation(looppar::ops::element(row, &[j], f32, location).unwrap())
            .result(0)
            .unwrap()
            .into();
        let doubled: Value = map_body
            .append_operation(arith::addf(element, element, location))
            .result(0)
            .unwrap()
            .into();
        map_body.append_operation(looppar::ops::r#yield(&[doubled], location).unwrap());
        let map_region = Region::new();
        map_region.append_block(map_body);
        let device_block = Block::new(&[]);
        let mapped: Value = device_block
            .append_operation(looppar::ops::map(&context, f32, 1, map_region, location).unwrap())
            .result(0)
            .unwrap()
            .into();
        device_block
            .append_operation(looppar::ops::assign(&context, ys, mapped, &[], location).unwrap());
        device_block.append_operation(looppar::ops::r#yield(&[], location).unwrap());
        let device_region = Region::new();
        device_region.append_block(device_block);
        block.append_operation(looppar::ops::on_device(device_region, location).unwrap());
    });
    insta::assert_snapshot!(text);
}

#[test]
fn looppar_while() {
    let context = create_context().unwrap();
    let location = Location::unknown(&context);
    let i1 = melior::ir::r#type::IntegerType::new(&context, 1).into();
    let text = function(&context, &[i1], |block| {
        let flag: Value = block.argument(0).unwrap().into();
        let before = Block::new(&[]);
        before.append_operation(looppar::ops::condition(flag, location).unwrap());
        let after = Block::new(&[]);
        after.append_operation(looppar::ops::r#yield(&[], location).unwrap());
        let (before_region, after_region) = (Region::new(), Region::new());
        before_region.append_block(before);
        after_region.append_block(after);
        block.append_operation(
            looppar::ops::r#while(before_region, after_region, location).unwrap(),
        );
    });
    insta::assert_snapshot!(text);
}

#[test]
fn violations_are_reported_without_diagnostics() {
    let context = create_context().unwrap();
    let module = Module::parse(
        &context,
        r#"
        "looppar.parallelize"() {label = "N", threads = 4 : i64} : () -> ()
        "looppar.parallelize"() {label = "N", threads = 8 : i64} : () -> ()
        "#,
    )
    .unwrap();
    let violations = verify_semantics(&module.as_operation());
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].op, "looppar.parallelize");
    assert_eq!(violations[0].message, "specifies label 'N' a second time");
}

#[test]
fn devices_print_and_parse_back() {
    for device in [Device::Cpu, Device::Gpu(0), Device::Gpu(7), Device::AnyGpu] {
        assert_eq!(Device::parse(&device.to_string()), Some(device));
    }
    assert_eq!(Device::parse("#device.gpu<-1 : i64>"), None);
    assert_eq!(Device::parse("#device.tpu"), None);
}

#[test]
fn loading_twice_is_harmless_and_builders_need_the_dialects() {
    let context = create_context().unwrap();
    parla_dialects::load_dialects(&context).unwrap();
    let bare = Context::new();
    let error = task::ops::create_space(&bare, "T", Location::unknown(&bare)).unwrap_err();
    assert!(error.to_string().contains("!task.space"), "{error}");
}
