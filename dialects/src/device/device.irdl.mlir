// The `device` dialect: devices, their resources, and data movement.
irdl.dialect @device {
  // The host CPU (all of its cores, as one Parla device).
  irdl.attribute @cpu {}

  // One GPU, by ordinal.
  irdl.attribute @gpu {
    %index = irdl.base "#builtin.integer"
    irdl.parameters(index: %index)
  }

  // Any GPU: the mapper chooses.
  irdl.attribute @any_gpu {}

  // States what one device offers to the scheduler.
  irdl.operation @resources {
    %cpu = irdl.parametric @device::@cpu<>
    %gpu = irdl.base @device::@gpu
    %dev = irdl.any_of(%cpu, %gpu)
    %float = irdl.base "#builtin.float"
    %int = irdl.base "#builtin.integer"
    irdl.attributes { "device" = %dev, "vcus" = %float, "memory" = %int }
  }

  // Allocates a buffer in the memory of `device`.
  irdl.operation @alloc {
    %index = irdl.is index
    irdl.operands(dynamic_sizes: variadic %index)
    %cpu = irdl.parametric @device::@cpu<>
    %gpu = irdl.base @device::@gpu
    %dev = irdl.any_of(%cpu, %gpu)
    irdl.attributes { "device" = %dev }
    %memref = irdl.base "!builtin.memref"
    irdl.results(buffer: %memref)
  }

  // Frees a buffer allocated by `device.alloc`.
  irdl.operation @free {
    %memref = irdl.base "!builtin.memref"
    irdl.operands(buffer: %memref)
    %cpu = irdl.parametric @device::@cpu<>
    %gpu = irdl.base @device::@gpu
    %dev = irdl.any_of(%cpu, %gpu)
    irdl.attributes { "device" = %dev }
  }

  // Copies `source` (in the memory of `from`) into `target` (in `to`).
  irdl.operation @copy {
    // Separate constraint values: one value used twice would force both
    // operands to one type, memory space included.
    %source = irdl.base "!builtin.memref"
    %target = irdl.base "!builtin.memref"
    irdl.operands(source: %source, target: %target)
    %cpu_from = irdl.parametric @device::@cpu<>
    %gpu_from = irdl.base @device::@gpu
    %from = irdl.any_of(%cpu_from, %gpu_from)
    %cpu_to = irdl.parametric @device::@cpu<>
    %gpu_to = irdl.base @device::@gpu
    %to = irdl.any_of(%cpu_to, %gpu_to)
    irdl.attributes { "from" = %from, "to" = %to }
  }
}
