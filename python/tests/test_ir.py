"""The Python face of IR verification: valid IR round-trips, invalid IR
raises IRError with positions."""

import pytest

import parla
from parla import ir

SPAWN = """
"task.graph"() ({{
  %c0 = arith.constant 0 : index
  %T = "task.create_space"() {{name = "T"}} : () -> !task.space
  %t = "task.id"(%T, %c0) : (!task.space, index) -> !task.handle
  "task.spawn"(%t) ({{
    "task.yield"() : () -> ()
  }}) {{placement = [#device.cpu], vcus = {vcus} : f64, memory = 0 : i64, operandSegmentSizes = array<i32: 1, 0, 0>}} : (!task.handle) -> ()
  "task.yield"() : () -> ()
}}) : () -> ()
"""


def test_version_matches_the_native_module():
    assert parla.__version__ == parla._parla.version()
    assert parla.__version__.count(".") == 2


def test_valid_ir_round_trips():
    printed = ir.verify(SPAWN.format(vcus="0.5"), "graph.mlir")
    assert '"task.spawn"' in printed
    assert "vcus = 5.000000e-01 : f64" in printed
    # Printing is a fixed point.
    assert ir.verify(printed) == printed


def test_semantic_errors_name_the_rule_and_the_position():
    with pytest.raises(ir.IRError) as caught:
        ir.verify(SPAWN.format(vcus="1.5"), "graph.mlir")
    (diagnostic,) = [d for d in caught.value.diagnostics if d.severity == "error"]
    assert diagnostic.file == "graph.mlir"
    assert (diagnostic.line, diagnostic.column) == (6, 3)
    assert "requires 'vcus' in [0, 1], got 1.5" in diagnostic.message
    assert "graph.mlir:6:3: error:" in str(caught.value)


def test_parse_errors_are_ir_errors():
    with pytest.raises(ir.IRError) as caught:
        ir.verify('"looppar.for"(', "broken.mlir")
    assert caught.value.diagnostics[0].file == "broken.mlir"
    assert caught.value.diagnostics[0].line == 1


def test_text_the_mlir_parser_would_crash_on_is_an_ir_error():
    # array<index: ...> once took the process down inside MLIR's parser.
    with pytest.raises(ir.IRError, match="dense arrays of index elements are not supported") as caught:
        ir.verify("module attributes {test.x = array<index: 1>} {}", "index.mlir")
    assert (caught.value.diagnostics[0].line, caught.value.diagnostics[0].column) == (1, 29)
    # In a string it is only text, and so is a dialect's own `array<`.
    ir.verify('module attributes {test.x = "array<index: 1>"} {}')
    with pytest.raises(ir.IRError) as caught:
        ir.verify("module attributes {test.x = #test.array<index: 1>} {}")
    assert "dense arrays" not in str(caught.value)


def test_non_text_is_a_type_error():
    with pytest.raises(TypeError, match="expects IR text"):
        ir.verify(b"module {}")  # type: ignore[arg-type]
