// The `task` dialect: a Parla task graph.
//
// Structural constraints live here and are checked by MLIR's verifier;
// semantic rules that IRDL cannot state (terminators, value ranges,
// nesting) are checked by `verify.rs`. `task.yield` is registered natively
// (see `cpp/native_ops.cpp`) because IRDL in MLIR 22 cannot give an op the
// IsTerminator trait.
irdl.dialect @task {
  // A namespace of task ids, `TaskSpace("T")` in Python.
  irdl.type @space {}

  // One task: `T[i, j]`, spawned or still to be spawned.
  irdl.type @handle {}

  // A set of tasks of one space: `T[0:4]`, `T[:n]`.
  irdl.type @group {}

  // The `with Parla():` scope. Every task spawned inside has completed
  // when control leaves the region.
  irdl.operation @graph {
    %body = irdl.region with size 1
    irdl.regions(body: %body)
  }

  // Creates a task space.
  irdl.operation @create_space {
    %str = irdl.base "#builtin.string"
    irdl.attributes { "name" = %str }
    %space = irdl.parametric @task::@space<>
    irdl.results(space: %space)
  }

  // Names one task of a space by its indices.
  irdl.operation @id {
    %space = irdl.parametric @task::@space<>
    %index = irdl.is index
    irdl.operands(space: %space, indices: variadic %index)
    %handle = irdl.parametric @task::@handle<>
    irdl.results(task: %handle)
  }

  // Names a rectangular range of tasks: bounds are (lower, upper) pairs,
  // one pair per dimension, upper exclusive.
  irdl.operation @slice {
    %space = irdl.parametric @task::@space<>
    %index = irdl.is index
    irdl.operands(space: %space, bounds: variadic %index)
    %group = irdl.parametric @task::@group<>
    irdl.results(tasks: %group)
  }

  // Spawns the task `id` with a body, after every task in `dependencies`
  // has completed, on one of the devices in `placement`.
  irdl.operation @spawn {
    %handle = irdl.parametric @task::@handle<>
    %group = irdl.parametric @task::@group<>
    irdl.operands(id: %handle, after_tasks: variadic %handle, after_groups: variadic %group)
    %array = irdl.base "#builtin.array"
    %float = irdl.base "#builtin.float"
    %int = irdl.base "#builtin.integer"
    irdl.attributes { "placement" = %array, "vcus" = %float, "memory" = %int }
    %body = irdl.region with size 1
    irdl.regions(body: %body)
  }

  // Suspends an asynchronous task body until the given tasks complete.
  irdl.operation @await {
    %handle = irdl.parametric @task::@handle<>
    %group = irdl.parametric @task::@group<>
    irdl.operands(tasks: variadic %handle, groups: variadic %group)
    // The awaited task's return value, when exactly one task is awaited.
    %value = irdl.any
    irdl.results(value: optional %value)
  }
}
