// The `looppar` dialect: labelled loop nests and their parallel
// specification, as written with the Parir API.
//
// `looppar.yield` and `looppar.condition` are registered natively (see
// `cpp/native_ops.cpp`): IRDL in MLIR 22 cannot give an op the
// IsTerminator trait. Optional attributes
// (`label`, `threads`, `tpb`, `reduce`, `labels`, `axis`) and every rule
// that relates operands to each other are checked in `verify.rs`.
irdl.dialect @looppar {
  // A view of an array where some dimensions are fixed by an index and
  // the others range: `x[i, :]`. Parameters: element type, rank (the
  // number of ranging dimensions).
  irdl.type @view {
    %elem = irdl.any
    %rank = irdl.base "#builtin.integer"
    irdl.parameters(element: %elem, rank: %rank)
  }

  // `for i in range(lower, upper, step)` with a positive step (as
  // `scf.for`: a constant step must be positive, a computed one must be
  // positive when the loop runs). The body's single argument is the
  // induction variable.
  irdl.operation @for {
    %index = irdl.is index
    irdl.operands(lower: %index, upper: %index, step: %index)
    %body = irdl.region(%index) with size 1
    irdl.regions(body: %body)
  }

  // `while cond: body`: the `before` region computes the condition and
  // ends with `looppar.condition` (a native op, like `looppar.yield`); the
  // `after` region is the body.
  irdl.operation @while {
    %before = irdl.region with size 1
    %after = irdl.region with size 1
    irdl.regions(before: %before, after: %after)
  }

  // The parallel specification of one label, from the call site's
  // `parir.par({...})`: `threads = n` with optional `tpb` and `reduce`,
  // or `seq` for a label that stays sequential.
  irdl.operation @parallelize {
    %str = irdl.base "#builtin.string"
    irdl.attributes { "label" = %str }
  }

  // `x[i, :, lo:hi]`: `kinds` has one entry per dimension of `source`:
  // 0 = a point (takes one index operand), 1 = the whole dimension,
  // 2 = a range (takes two index operands, lower and upper).
  irdl.operation @slice {
    %memref = irdl.base "!builtin.memref"
    %index = irdl.is index
    irdl.operands(source: %memref, indices: variadic %index)
    %array = irdl.base "#builtin.dense_array"
    irdl.attributes { "kinds" = %array }
    %slice = irdl.base @looppar::@view
    irdl.results(view: %slice)
  }

  // Elementwise computation over an index space of the result's rank: the
  // body takes one index per dimension, reads elements of views with
  // `looppar.element` (values from outside are used directly and
  // broadcast), and yields one element of the result.
  irdl.operation @map {
    %body = irdl.region with size 1
    irdl.regions(body: %body)
    %view = irdl.base @looppar::@view
    irdl.results(result: %view)
  }

  // One element of a view, at one index per ranging dimension.
  irdl.operation @element {
    %view = irdl.base @looppar::@view
    %index = irdl.is index
    irdl.operands(view: %view, indices: variadic %index)
    %elem = irdl.any
    irdl.results(element: %elem)
  }

  // `parir.sum/prod/min/max(s, axis=k)`: reduces one dimension (`axis`)
  // or, without `axis`, every dimension down to a scalar. `shape`, a view
  // of the input's rank, gives the extents of an input that is a
  // `looppar.map` (a map has none of its own).
  irdl.operation @reduce {
    %slice = irdl.base @looppar::@view
    %shape = irdl.base @looppar::@view
    irdl.operands(input: %slice, shape: optional %shape)
    %sum = irdl.is "sum"
    %prod = irdl.is "prod"
    %min = irdl.is "min"
    %max = irdl.is "max"
    %kind = irdl.any_of(%sum, %prod, %min, %max)
    irdl.attributes { "kind" = %kind }
    %result = irdl.any
    irdl.results(result: %result)
  }

  // `dest[...] = value`, a statement over slices: each ranging dimension
  // of `dest` becomes one loop. `labels` names those loops, outermost
  // first.
  irdl.operation @assign {
    %slice = irdl.base @looppar::@view
    %value = irdl.any
    irdl.operands(dest: %slice, value: %value)
  }

  // `with parir.gpu:`: the body runs once, on one thread of the target
  // device, so that statements outside parallel loops stay on the device.
  irdl.operation @on_device {
    %body = irdl.region with size 1
    irdl.regions(body: %body)
  }
}
