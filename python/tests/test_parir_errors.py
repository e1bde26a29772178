"""Bad input to parla.parir: every unsupported construct is a CompileError
naming file, line and column with the source line; wrong arguments are
TypeError/ValueError at the call; nothing crashes."""

import inspect
import math
from math import lgamma

import numpy as np
import pytest

import parla.parir as parir

import jit_helpers  # noqa: F401 (named in a JIT function)

HERE = __file__


def line_of(function, text):
    """The file line of the first source line of `function` containing
    `text`."""
    lines, first = inspect.getsourcelines(function)
    for offset, line in enumerate(lines):
        if text in line:
            return first + offset
    raise AssertionError(f"{text!r} not in {function.__name__}")


def compile_error(function, text, message, call=None):
    with pytest.raises(parir.CompileError) as caught:
        jitted = parir.jit(function)
        if call is not None:
            call(jitted)
    error = caught.value
    assert message in str(error), str(error)
    assert error.file == HERE
    assert error.line == line_of(function, text), (error.line, str(error))
    assert text in error.source_line
    assert error.column >= 1
    assert f"{HERE}:{error.line}:{error.column}: " in str(error)
    return error


def test_errors_about_nodes_without_a_position_point_at_the_enclosing_code():
    def varargs(x, *rest):
        x[0] = 1.0
    compile_error(varargs, "def varargs(x, *rest):", "*args and **kwargs are not supported")

    def defaults(x, n=3):
        x[0] = 1.0
    compile_error(defaults, "def defaults(x, n=3):", "positional parameters without defaults")

    def matmul(x, n):
        x[0] = x[0] @ x[1]
    compile_error(matmul, "x[0] = x[0] @ x[1]", "the operator MatMult is not supported")

    def imaginary(x, n):
        x[0] = 2j
    compile_error(imaginary, "x[0] = 2j", "complex constants are not supported")


def test_try_except():
    def f(x):
        try:
            x[0] = 1
        except Exception:
            pass
    compile_error(f, "try:", "try/except is not supported")


def test_comprehension():
    def f(x):
        y = [i for i in range(3)]
    compile_error(f, "for i in range(3)]", "comprehensions are not supported")


def test_lambda():
    def f(x):
        g = lambda: 1  # noqa: E731
    compile_error(f, "lambda", "lambdas are not supported")


def test_strings_and_print():
    def f(x):
        print("hello")
    compile_error(f, "print", "print is not supported")

    def g(x):
        s = "text"
    compile_error(g, '"text"', "strings are not supported")


def test_else_on_loops():
    def f(x, n):
        for i in range(n):
            x[i] = 1
        else:
            x[0] = 2
    compile_error(f, "for i in range(n):", "`else` on a for loop")

    def g(x):
        while x[0] < 1:
            x[0] += 1
        else:
            x[0] = 0
    compile_error(g, "while x[0] < 1:", "`else` on a while loop")


def test_zero_step_range():
    def f(x, n):
        parir.label('N')
        for i in range(0, n, 0):
            x[i] = 1
    compile_error(f, "range(0, n, 0)", "step must not be zero")


def test_non_range_loop_and_return_value():
    def f(x, n):
        for v in x:
            pass
    compile_error(f, "for v in x:", "iterate over range(...)")

    def g(x):
        return x
    compile_error(g, "return x", "cannot return values")


def test_calls_of_python_functions_and_recursion():
    def f(x, n):
        parir.label('N')
        for i in range(n):
            np.sort(x)
    compile_error(f, "np.sort(x)", "np.sort cannot be called in JIT functions")

    def h(x, n):
        parir.label('N')
        for i in range(n):
            x[i] = x.sum()
    compile_error(h, "x.sum()", "(`x.sum(...)`: arrays have no methods in JIT functions)")

    def through_a_module(x, n):
        parir.label('N')
        for i in range(n):
            jit_helpers.inner(x, i)
    compile_error(through_a_module, "jit_helpers.inner(x, i)",
                  "call a JIT function of another module by its own name, `from jit_helpers import inner`")

    def g(x, n):
        parir.label('N')
        for i in range(n):
            not_jitted(x, i)
    compile_error(g, "not_jitted(x, i)", "is not a JIT function",
                  call=lambda j: j(np.zeros(2), 2, opts=parir.par({'N': parir.threads(2)})))

    # Used as values: the message fits a JIT function (a statement that
    # returns nothing) and any other name alike.
    def as_value(x, n):
        parir.label('N')
        for i in range(n):
            x[i] = pow(x[i], 2.0)
    compile_error(as_value, "x[i] = pow(x[i], 2.0)", "`pow(...)` cannot be used as a value: JIT code calls only JIT functions",
                  call=lambda j: j(np.zeros(2), 2, opts=parir.par({'N': parir.threads(2)})))

    def jit_call_as_value(x, n):
        parir.label('N')
        for i in range(n):
            x[i] = writes_one(x, i)
    compile_error(jit_call_as_value, "x[i] = writes_one(x, i)",
                  "`writes_one(...)` cannot be used as a value: JIT code calls only JIT functions (decorated with @parir.jit), as statements, and they return no value",
                  call=lambda j: j(np.zeros(2), 2, opts=parir.par({'N': parir.threads(2)})))


    def recursive(x, n):
        parir.label('N')
        for i in range(n):
            recursive(x, n)
    plain = recursive
    recursive = parir.jit(recursive)  # what the call in its body names
    compile_error(plain, "    recursive(x, n)", "recursion is not supported",
                  call=lambda j: j(np.zeros(2), 2, opts=parir.par({'N': parir.threads(2)})))


def not_jitted(x, i):
    x[i] = 1


@parir.jit
def writes_one(x, i):
    x[i] = 1.0


def test_materialising_slice_suggests_the_rewrite():
    def f(x, a, n):
        parir.label('N')
        for i in range(n):
            a = x[i, :]
    compile_error(f, "a = x[i, :]", "write a[:] = x[i, :]",
                  call=lambda j: j(np.zeros((2, 2)), np.zeros(2), 2, opts=parir.par({'N': parir.threads(2)})))


def test_statements_outside_parallel_loops():
    def f(x, n):
        x[0] = 0.0
        parir.label('N')
        for i in range(n):
            x[i] += 1.0
    compile_error(f, "x[0] = 0.0", "wrap the function body in `with parir.gpu:`",
                  call=lambda j: j(np.zeros(3), 3, opts=parir.par({'N': parir.threads(3)})))


@pytest.mark.parametrize("first, later, wider", [
    (np.int8, np.int16, "int16"), (np.float32, np.float64, "float64"),
    (np.bool_, np.int32, "int32"), (np.uint8, np.int8, "int16"),
])
def test_a_local_refuses_values_its_first_type_cannot_hold(first, later, wider):
    """Python's variable takes each value's type; a local keeps the first,
    and a later value it cannot hold would be cut down (200 into an int8
    is -56): refused, naming the type to start with. Values it holds (an
    int8 into an int16 local, literals) are fine."""
    def f(a, b, o, n):
        parir.label('N')
        for i in range(n):
            t = a[i]
            t = t + b[i]
            o[i] = t
    error = compile_error(f, "t = t + b[i]", f"`t` holds {np.dtype(first).name} values",
                          call=lambda j: j(np.ones(2, first), np.ones(2, later), np.zeros(2), 2,
                                           opts=parir.par({'N': parir.threads(2)})))
    assert f"t = parir.{wider}(...)" in str(error)
    if np.promote_types(first, later) != np.dtype(later):
        return   # uint8 and int8 hold none of each other
    o, want = np.zeros(2), np.zeros(2)
    jitted = parir.jit(f)
    jitted(np.ones(2, later), np.ones(2, first), o, 2, opts=parir.par({'N': parir.threads(2)}))
    jitted(np.ones(2, later), np.ones(2, first), want, 2, seq=True)
    np.testing.assert_array_equal(o, want)


def test_bitwise_operators_name_integer_types_without_a_common_one():
    def shift(x, s, y, n):
        parir.label('N')
        for i in range(n):
            y[i] = x[i] << s[i]
    compile_error(shift, "y[i] = x[i] << s[i]", "uint64 with int8 has none (NumPy promotes them to float64)",
                  call=lambda j: j(np.ones(2, np.uint64), np.ones(2, np.int8), np.zeros(2, np.uint64), 2,
                                   opts=parir.par({'N': parir.threads(2)})))

    def float_and(x, y, n):
        parir.label('N')
        for i in range(n):
            y[i] = x[i] & 1
    compile_error(float_and, "y[i] = x[i] & 1", "bitwise operators need integer operands",
                  call=lambda j: j(np.ones(2), np.zeros(2), 2, opts=parir.par({'N': parir.threads(2)})))


def test_type_errors_name_the_place():
    def f(x, n):
        parir.label('N')
        for i in range(n):
            k = 1
            k = x[i]
    compile_error(f, "k = x[i]", "would lose its fraction",
                  call=lambda j: j(np.zeros(3), 3, opts=parir.par({'N': parir.threads(3)})))

    def g(x, n):
        parir.label('N')
        for i in range(n):
            x[i] = undefined_name
    compile_error(g, "undefined_name", "`undefined_name` is not defined",
                  call=lambda j: j(np.zeros(3), 3, opts=parir.par({'N': parir.threads(3)})))

    def h(x, n):
        parir.label('N')
        for i in range(n):
            x[i, 0] = 1.0
    compile_error(h, "x[i, 0] = 1.0", "takes that many indices",
                  call=lambda j: j(np.zeros(3), 3, opts=parir.par({'N': parir.threads(3)})))


@pytest.mark.parametrize("n", [0, -3, 2**63, 2**70])
def test_thread_counts_are_positive_and_fit_64_bits(n):
    with pytest.raises(ValueError, match="positive number below 2\\*\\*63"):
        parir.threads(n)


def test_reduce_on_a_loop_that_is_not_a_reduction():
    def f(x, y, n):
        parir.label('N')
        for i in range(n):
            y[i] = x[i]
    compile_error(f, "for i in range(n):", "is a reduction (.reduce())",
                  call=lambda j: j(np.zeros(3), np.zeros(3), 3, opts=parir.par({'N': parir.threads(3).reduce()})))


def test_unknown_label_in_the_specification():
    def f(x, n):
        parir.label('N')
        for i in range(n):
            x[i] = 1.0
    compile_error(f, "def f(x, n):", "names the label 'Q', which labels nothing",
                  call=lambda j: j(np.zeros(3), 3, opts=parir.par({'N': parir.threads(3), 'Q': parir.threads(2)})))


@parir.jit
def simple(x, n):
    parir.label('N')
    for i in range(n):
        x[i] = 1.0


def test_a_call_without_parallelism_is_rejected():
    with pytest.raises(ValueError, match="no parallelism"):
        simple(np.zeros(3), 3)
    with pytest.raises(ValueError, match="no parallelism"):
        simple(np.zeros(3), 3, opts=parir.par({'N': parir.seq()}))


def test_wrong_arguments_at_the_call():
    opts = parir.par({'N': parir.threads(3)})
    with pytest.raises(TypeError, match="takes 2 argument"):
        simple(np.zeros(3), opts=opts)
    with pytest.raises(TypeError, match="string keys"):
        simple({1: np.zeros(3)}, 3, opts=opts)
    with pytest.raises(TypeError, match="cannot hold dicts"):
        simple({"a": {"b": 1}}, 3, opts=opts)
    with pytest.raises(TypeError, match="argument `x`: arrays of element format 'O' are not supported"):
        simple(object(), 3, opts=opts)
    with pytest.raises(TypeError, match="argument `x`: NoneType is not an argument JIT functions take"):
        simple(None, 3, opts=opts)
    with pytest.raises(TypeError, match=r"argument `x`: arrays of element type datetime64\[D\] are not supported"):
        simple(np.zeros(3, dtype="datetime64[D]"), 3, opts=opts)
    with pytest.raises(TypeError, match="not supported"):
        simple(np.zeros(3, dtype=np.complex128), 3, opts=opts)
    with pytest.raises(TypeError, match="argument `n`: NumPy scalars of type float16 are not supported"):
        simple(np.zeros(3), np.float16(3), opts=opts)
    with pytest.raises(ValueError, match=r"argument `n`: Python int arguments are int64s .* pass np.uint64\(9223372036854775808\)"):
        simple(np.zeros(3), 2**63, opts=opts)
    with pytest.raises(ValueError, match=r"and -9223372036854775809 is not one$"):
        simple(np.zeros(3), -2**63 - 1, opts=opts)
    with pytest.raises(TypeError, match=r"opts must be made by parir.par.*a dict goes to parir.par, or to parallelize="):
        simple(np.zeros(3), 3, opts={'N': parir.threads(3)})
    with pytest.raises(TypeError, match="opts must be made by parir.par"):
        parir.print_compiled(simple, [np.zeros(3), 3], {'N': parir.threads(3)})
    with pytest.raises(TypeError, match="not both"):
        simple(np.zeros(3), 3, opts=opts, parallelize={'N': parir.threads(3)})
    # The original's keyword: a dict passed as parallelize=.
    y = np.zeros(3)
    simple(y, 3, parallelize={'N': parir.threads(3)})
    np.testing.assert_array_equal(y, 1.0)
    # (Over 100 iterations: a loop of a few runs on the calling thread.)
    assert "scf.parallel" in parir.print_compiled(simple, [np.zeros(100), 100], parallelize={'N': parir.threads(100)},
                                                  stage="scf")
    with pytest.raises(TypeError):
        parir.threads("3")


def test_async_functions_and_nested_definitions():
    async def f(x):
        pass
    with pytest.raises(parir.CompileError, match="cannot be async"):
        parir.jit(f)

    def g(x):
        def inner():
            pass
    compile_error(g, "def inner", "nested function definitions")


def test_out_of_bounds_is_checked_with_debug(capsys):
    """An index that only the data decides is checked when the code runs,
    with debug=True."""
    @parir.jit
    def shifted(x, y, d, n):
        parir.label('N')
        for i in range(n):
            y[i] = x[i + d[0]]

    x, y, d = np.arange(5.0), np.zeros(5), np.array([1])
    opts = parir.par({'N': parir.threads(5)})
    with pytest.raises(IndexError) as caught:
        shifted(x, y, d, 5, opts=opts, debug=True)
    message = str(caught.value)
    assert f"{HERE}:{line_of(shifted.__wrapped__, 'y[i] = x[i + d[0]]')}:" in message
    assert "index out of bounds" in message and "y[i] = x[i + d[0]]" in message
    # In bounds, debug=True changes nothing but the printing.
    shifted(x, y, d, 4, opts=parir.par({'N': parir.threads(4)}), debug=True)
    np.testing.assert_array_equal(y[:4], x[1:])
    capsys.readouterr()


def test_indices_that_certainly_leave_the_array_are_compile_errors():
    """Shapes and scalars are known when a call compiles: an index of the
    loop variables that leaves its axis in some iteration that certainly
    runs is an error there, with or without debug, naming the iteration;
    a guarded one runs."""
    opts = parir.par({'N': parir.threads(5)})

    def shifted(x, y, n):
        parir.label('N')
        for i in range(n):
            y[i] = x[i + 1]
    error = compile_error(shifted, "y[i] = x[i + 1]",
                          "index 5 is out of bounds for axis 0 with size 5 in iteration 4 of the loop at",
                          call=lambda j: j(np.zeros(5), np.zeros(5), 5, opts=opts))
    assert f"loop at {HERE}:{line_of(shifted, 'for i in range(n):')}:" in str(error)

    def previous(x, y, n, m):
        parir.label('N')
        for i in range(n):
            for j in range(m):
                y[i] += x[i, j - 1]
    compile_error(previous, "y[i] += x[i, j - 1]", "only a constant index counts from the end",
                  call=lambda j: j(np.zeros((5, 3)), np.zeros(5), 5, 3, opts=opts))

    @parir.jit
    def guarded(x, y, n):
        parir.label('N')
        for i in range(n):
            y[i] = x[i + 1] if i + 1 < n else 0.0
            for j in range(n - 5):
                y[i] += x[i + 9]  # a loop of no iterations
    x, y = np.arange(5.0), np.zeros(5)
    guarded(x, y, 5, opts=opts)
    np.testing.assert_array_equal(y, [1, 2, 3, 4, 0])


def test_reusing_an_enclosing_loops_variable_or_a_parameter_as_loop_variable_is_an_error():
    opts = parir.par({'N': parir.threads(4)})

    def reused(y, n):
        parir.label('N')
        for i in range(n):
            for i in range(3):
                y[i] += 1.0
    compile_error(reused, "for i in range(3):", "already the variable of an enclosing loop",
                  call=lambda j: j(np.zeros(4), 4, opts=opts))

    def over_parameter(y, n):
        parir.label('N')
        for y in range(n):
            n += 1
    compile_error(over_parameter, "for y in range(n):", "`y` is a parameter and cannot be a loop variable",
                  call=lambda j: j(np.zeros(4), 4, opts=opts))


def test_locals_that_may_be_unassigned_when_read_are_errors_at_decoration():
    def one_branch(x, y, n):
        parir.label('N')
        for i in range(n):
            if x[i] > 1.0:
                w = 1.0
            y[i] = w
    compile_error(one_branch, "y[i] = w", "`w` may be read here before it is assigned")

    def loop_may_not_run(x, y, n):
        parir.label('N')
        for i in range(n):
            for j in range(n):
                t = x[j]
            y[i] = t
    compile_error(loop_may_not_run, "y[i] = t", "UnboundLocalError")

    # Both branches, or a loop that certainly runs, assign it.
    @parir.jit
    def assigned(x, y, n):
        parir.label('N')
        for i in range(n):
            if x[i] > 1.0:
                w = 1.0
            else:
                w = 2.0
            for j in range(2):
                t = x[j] + w
            y[i] = t

    y = np.zeros(3)
    assigned(np.array([0.0, 5.0, 1.0]), y, 3, opts=parir.par({'N': parir.threads(3)}))
    np.testing.assert_array_equal(y, [7.0, 6.0, 7.0])


def test_races_are_compile_errors_naming_the_loop_and_the_access():
    opts = parir.par({'N': parir.threads(4)})

    def neighbour(x, n):
        parir.label('N')
        for i in range(n):
            x[i] = x[i + 1]
    error = compile_error(neighbour, "x[i] = x[i + 1]", "iteration i - 1 reads",
                          call=lambda j: j(np.zeros(5), 4, opts=opts))
    assert f"the parallel loop 'N' at {HERE}:{line_of(neighbour, 'for i in range(n):')}:" in str(error)

    def overwrite(x, y, n):
        parir.label('N')
        for i in range(n):
            y[0] = x[i]
    compile_error(overwrite, "y[0] = x[i]", "writes the same memory",
                  call=lambda j: j(np.zeros(4), np.zeros(1), 4, opts=opts))

    # A reduction in the same body exempts only the element it updates.
    def sum_and_overwrite(x, y, z, n):
        parir.label('N')
        for i in range(n):
            y[0] += x[i]
            z[0] = x[i]
    compile_error(sum_and_overwrite, "z[0] = x[i]", "writes the same memory",
                  call=lambda j: j(np.zeros(4), np.zeros(1), np.zeros(1), 4, opts=opts))

    # Also where the reduction became atomic (the outer loop shares y[0]).
    def inner_sum_and_overwrite(x, y, z, n, m):
        parir.label('N')
        for i in range(n):
            parir.label('M')
            for j in range(m):
                y[0] += x[i, j]
                z[i] = x[i, j]
    compile_error(inner_sum_and_overwrite, "z[i] = x[i, j]", "writes the same memory",
                  call=lambda j: j(np.zeros((4, 8)), np.zeros(1), np.zeros(4), 4, 8,
                                   opts=parir.par({'N': parir.threads(4), 'M': parir.threads(8)})))


def test_reading_an_element_that_iterations_update_is_a_race():
    """`y[1] += v; z[i] = y[1]`: a sequential loop reads the running sum,
    which parallel iterations cannot agree on; the update is atomic, but
    the read races with the other iterations' updates. `y[0]` beside it,
    which no read meets, stays a reduction."""
    opts = parir.par({'N': parir.threads(4)})

    def running_sum(x, y, z, n):
        parir.label('N')
        for i in range(n):
            y[0] += x[i]
            y[1] += x[i] * x[i]
            z[i] = y[1]
    error = compile_error(running_sum, "y[1] += x[i] * x[i]", "writes the element that iteration 1 reads",
                          call=lambda j: j(np.zeros(4), np.zeros(2), np.zeros(4), 4, opts=opts))
    assert f"reads at {HERE}:{line_of(running_sum, 'z[i] = y[1]')}:" in str(error)


def test_atomic_updates_of_different_kinds_on_one_element_are_a_race():
    """`y[0] += 1.0; y[0] = max(y[0], x[i])`: each update is atomic, but an
    add and a max do not commute, so the result would depend on the order
    of the iterations. Updates of one kind, or of different elements,
    still run."""
    opts = parir.par({'N': parir.threads(64)})

    def add_then_max(x, y, n):
        parir.label('N')
        for i in range(n):
            y[0] += 1.0
            if x[i] > 3.0:
                y[0] = max(y[0], x[i])
    error = compile_error(add_then_max, "y[0] += 1.0", "in two ways that do not commute",
                          call=lambda j: j(np.zeros(64), np.zeros(2), 64, opts=opts))
    assert f"here and at {HERE}:{line_of(add_then_max, 'y[0] = max(y[0], x[i])')}:" in str(error)

    def at_data_index(x, b, y, n):
        parir.label('N')
        for i in range(n):
            k = b[i]
            y[k] += x[i]
            y[k] = max(y[k], x[i])
    compile_error(at_data_index, "y[k] += x[i]", "with an index from the data, wherever it repeats",
                  call=lambda j: j(np.zeros(64), np.zeros(64, np.int64), np.zeros(2), 64, opts=opts))

    def reset_beside_sum(x, y, n):
        parir.label('N')
        for i in range(n):
            if x[i] > 0.0:
                y[0] += x[i]
            if x[i] < -1.0:
                y[0] = 7.0
    compile_error(reset_beside_sum, "y[0] = 7.0", "also update atomically at",
                  call=lambda j: j(np.zeros(64), np.zeros(2), 64, opts=opts))

    @parir.jit
    def apart(x, y, n):
        parir.label('N')
        for i in range(n):
            y[0] += 1.0
            y[0] += x[i]
            y[1] = max(y[1], x[i])
    x = (np.arange(1000) % 37).astype(np.float64)
    y = np.zeros(2)
    apart(x, y, 1000, opts=opts)
    np.testing.assert_array_equal(y, [1000 + x.sum(), 36])


def test_conditional_writes_of_one_location_that_differ_per_iteration_are_races():
    opts = parir.par({'N': parir.threads(16)})

    def last_local(x, y, n):
        with parir.gpu:
            last = -1
            parir.label('N')
            for i in range(n):
                if x[i] > 0.0:
                    last = i
            y[0] = last
    error = compile_error(last_local, "last = i", "in every iteration where the condition at",
                          call=lambda j: j(np.ones(64), np.zeros(1, np.int64), 64, opts=opts))
    assert f"{HERE}:{line_of(last_local, 'if x[i] > 0.0:')}:" in str(error)

    def last_element(x, y, n):
        parir.label('N')
        for i in range(n):
            if x[i] > 0.0:
                y[0] = x[i]
    compile_error(last_element, "y[0] = x[i]", "a sequential loop keeps the last one's value",
                  call=lambda j: j(np.ones(64), np.zeros(1), 64, opts=opts))

    # What the message suggests, and writes that cannot disagree, run.
    @parir.jit
    def last_by_max(x, y, n):
        parir.label('N')
        for i in range(n):
            if x[i] > 0.0:
                y[0] = max(y[0], i)
            if x[i] > 0.0:
                y[1] = 1  # the same value from every writer
            if i == 7:
                y[2] = i * 10  # one iteration qualifies

    x = np.where(np.arange(5000) % 3 == 0, 1.0, -1.0)
    y = np.full(3, -1, np.int64)
    last_by_max(x, y, 5000, opts=parir.par({'N': parir.threads(64)}))
    np.testing.assert_array_equal(y, [4998, 1, 70])


def test_races_between_iterations_far_apart_or_through_modulo_are_found():
    opts = parir.par({'N': parir.threads(16)})

    def reverse(x, n):
        parir.label('N')
        for i in range(n):
            x[i] = x[n - 1 - i]
    compile_error(reverse, "x[i] = x[n - 1 - i]", "writes the element that iteration 0 reads",
                  call=lambda j: j(np.zeros(1000), 1000, opts=opts))

    def spread(x, n):
        parir.label('N')
        for i in range(n // 2):
            x[2 * i] = x[i] + 1.0
    compile_error(spread, "x[2 * i] = x[i] + 1.0", "iteration 1 of the parallel loop 'N'",
                  call=lambda j: j(np.zeros(1000), 1000, opts=opts))

    def centre(x, n):
        parir.label('N')
        for i in range(n):
            x[i] = x[i] - x[0]
    compile_error(centre, "x[i] = x[i] - x[0]", "iteration 0 of the parallel loop 'N'",
                  call=lambda j: j(np.ones(1000), 1000, opts=opts))


def test_races_through_indices_kept_in_locals_are_found():
    """An index put in a local first (`j = i + 1; x[j] = ...`) is the
    value stored last before its use: the same races as written inline
    (these once compiled, ran in parallel and gave wrong results)."""
    opts = parir.par({'N': parir.threads(16)})

    def shifted(x, n):
        parir.label('N')
        for i in range(n - 1):
            j = i + 1
            x[j] = x[i] + 1.0
    compile_error(shifted, "x[j] = x[i] + 1.0", "writes the element that iteration i + 1 reads",
                  call=lambda f: f(np.zeros(64), 64, opts=opts))

    def reassigned(x, n):
        parir.label('N')
        for i in range(n - 1):
            j, k = i, i
            j = j + 1
            x[j] = x[k] + 1.0
    compile_error(reassigned, "x[j] = x[k] + 1.0", "writes the element that iteration i + 1 reads",
                  call=lambda f: f(np.zeros(64), 64, opts=opts))

    def running_total(x, y, a, n):
        parir.label('N')
        for i in range(n):
            k = 0
            a[k] += x[i]
            y[i] = a[k]
    compile_error(running_total, "a[k] += x[i]", "writes the element that iteration 1 reads",
                  call=lambda f: f(np.ones(64), np.zeros(64), np.zeros(1), 64, opts=opts))

    def wrapped(x, n):
        parir.label('N')
        for i in range(n - 1):
            m = x.shape[0]
            x[(i + 1) % m] = x[i] + 1.0
    compile_error(wrapped, "x[(i + 1) % m] = x[i] + 1.0", "writes the element that iteration 1 reads",
                  call=lambda f: f(np.zeros(64), 64, opts=opts))

    # What a local holds at its use is known only when it was stored in
    # the same block: a branch between leaves the index unknown (and not
    # reported), and the iteration's own element is no race.
    @parir.jit
    def own_element(x, y, n):
        parir.label('N')
        for i in range(n):
            j = i
            y[j] = x[j] * 2.0
            k = 0
            a = x[k]
            y[i] += a

    x, y = np.arange(64.0), np.zeros(64)
    own_element(x, y, 64, opts=opts)
    np.testing.assert_array_equal(y, 2.0 * x + x[0])


def test_races_through_inner_loops_are_found():
    """Indices of inner loops' variables are evaluated where those loops
    run: a transpose in place reads what another iteration writes, and a
    reset of y[i] meets the other iterations' updates of every y[j]. A
    transpose into another array, or rows of one's own, still runs."""
    opts = parir.par({'N': parir.threads(64)})

    def transpose_in_place(x):
        parir.label('N')
        for i in range(x.shape[0]):
            for j in range(x.shape[1]):
                x[i, j] = x[j, i]
    compile_error(transpose_in_place, "x[i, j] = x[j, i]",
                  "iteration 1 of the parallel loop 'N' at",
                  call=lambda f: f(np.zeros((64, 64)), opts=opts))

    def reset_and_spread(x, y):
        parir.label('N')
        for i in range(len(x)):
            y[i] = 0.0
            for j in range(len(x)):
                y[j] += x[i]
    compile_error(reset_and_spread, "y[i] = 0.0", "writes an element here that its iterations also update atomically",
                  call=lambda f: f(np.zeros(64), np.zeros(64), opts=opts))

    @parir.jit
    def transpose(x, y):
        parir.label('N')
        for i in range(x.shape[0]):
            for j in range(x.shape[1]):
                y[i, j] = x[j, i]
            for j in range(x.shape[1]):
                y[i, j] = y[i, j] * 2.0
    x = np.arange(64.0 * 64).reshape(64, 64)
    y = np.zeros((64, 64))
    transpose(x, y, opts=opts)
    np.testing.assert_array_equal(y, 2 * x.T)


def test_updates_of_elements_the_data_chooses_that_no_atomic_makes_are_races():
    """`h[b[i]] *= x[i]` on floats has no atomic form (nor has an update
    through a local): iterations whose data repeat an index would lose
    each other's updates (a product of 1.0 came out 0.0625), so they are
    refused; the atomic forms run."""
    opts = parir.par({'N': parir.threads(1000)})
    b, x = np.zeros(1000, np.int64), np.ones(1000)

    def scale_bins(b, x, h, n):
        parir.label('N')
        for i in range(n):
            h[b[i]] *= x[i]
    compile_error(scale_bins, "h[b[i]] *= x[i]", "updates an element chosen by the data here",
                  call=lambda f: f(b, x, np.ones(2), 1000, opts=opts))

    def through_a_local(b, x, h, n):
        parir.label('N')
        for i in range(n):
            t = h[b[i]]
            h[b[i]] = t + x[i]
    compile_error(through_a_local, "h[b[i]] = t + x[i]", "write it as one atomic update",
                  call=lambda f: f(b, x, np.ones(2), 1000, opts=opts))

    @parir.jit
    def atomic(b, x, h, n):
        parir.label('N')
        for i in range(n):
            h[b[i]] += x[i]
            h[b[i] + 1] = max(h[b[i] + 1], x[i])
    h = np.zeros(2)
    atomic(b, x, h, 1000, opts=opts)
    assert h.tolist() == [1000.0, 1.0]


def test_accesses_that_may_not_meet_are_left_alone():
    opts = parir.par({'N': parir.threads(16)})

    @parir.jit
    def scatter(x, y, to, n):
        parir.label('N')
        for i in range(n):
            y[to[i]] = x[i]  # a permutation: fine
            if i == 0:
                y[0] = y[0]  # only one iteration

    @parir.jit
    def swap_halves(x, n):
        parir.label('N')
        for i in range(n // 2):
            t = x[i]
            x[i] = x[n - 1 - i]
            x[n - 1 - i] = t

    x = np.arange(100.0)
    to = np.random.default_rng(5).permutation(100)
    y = np.zeros(100)
    scatter(x, y, to, 100, opts=opts)
    np.testing.assert_array_equal(y[to], x)
    swap_halves(x, 100, opts=opts)
    np.testing.assert_array_equal(x, np.arange(100.0)[::-1])



def test_what_is_not_a_race_still_compiles():
    @parir.jit
    def stencil(x, y, n):
        parir.label('N')
        for i in range(n):
            y[i] = x[i + 1] - x[i]  # reads neighbours, writes its own element

    @parir.jit
    def rows(x, y, n, m):
        parir.label('N')
        for i in range(n):
            parir.label('M')
            for j in range(m):
                y[i] += x[i, j]  # a reduction, recognised without .reduce()

    x = np.arange(6.0) ** 2
    y = np.zeros(5)
    stencil(x, y, 5, opts=parir.par({'N': parir.threads(5)}))
    np.testing.assert_array_equal(y, np.diff(x))
    m = np.arange(12.0).reshape(3, 4)
    r = np.zeros(3)
    rows(m, r, 3, 4, opts=parir.par({'N': parir.threads(3), 'M': parir.threads(4)}))
    np.testing.assert_array_equal(r, m.sum(axis=1))

    # A local accumulated in a parallel loop (acc = acc op expr) is a
    # reduction, detected in the IR and run in parallel.
    @parir.jit
    def local_sum(x, y, n):
        with parir.gpu:
            s = 1.0
            biggest = x[0]
            parir.label('N')
            for i in range(n):
                s += x[i] * 2.0
            parir.label('M')
            for i in range(n):
                biggest = max(biggest, x[i])
            y[0] = s
            y[1] = biggest

    v = np.random.default_rng(2).random(10_001)
    out = np.zeros(2)
    local_sum(v, out, v.size, opts=parir.par({'N': parir.threads(v.size), 'M': parir.threads(v.size)}))
    np.testing.assert_allclose(out, [1.0 + 2.0 * v.sum(), v.max()])


def test_slice_shape_mismatches_are_compile_errors_at_the_statement():
    def mismatch(x, y, N):
        parir.label('N')
        y[:] = x[:] + 1.0

    compile_error(mismatch, "y[:] = x[:] + 1.0", "shape mismatch: this slice has 4 element(s)",
                  lambda f: f(np.zeros(4), np.zeros(5), 5, opts=parir.par({'N': parir.threads(5)})))

    def reduced_mismatch(x, y, N):
        parir.label('N')
        y[:] = parir.sum(x[:, :], axis=1)

    compile_error(reduced_mismatch, "y[:] = parir.sum", "shape mismatch",
                  lambda f: f(np.zeros((3, 4)), np.zeros(4), 4, opts=parir.par({'N': parir.threads(4)})))


def test_slice_bounds_known_at_compile_time_are_checked():
    def too_far(x, y, N):
        parir.label('N')
        y[0:N] = x[0:N]

    compile_error(too_far, "y[0:N] = x[0:N]", "the slice 0:6 is out of bounds for dimension 0, of size 5",
                  lambda f: f(np.zeros(5), np.zeros(5), 6, opts=parir.par({'N': parir.threads(6)})))


def test_a_slice_statement_reading_its_destination_through_another_slice_is_rejected():
    def shift(x, N):
        parir.label('N')
        x[1:] = x[:N - 1]

    compile_error(shift, "x[1:] = x[:N - 1]", "reads `x` through another slice than the one it writes",
                  lambda f: f(np.zeros(5), 5, opts=parir.par({'N': parir.threads(4)})))


def test_ints_that_do_not_fit_are_compile_errors_at_their_statement():
    opts = parir.par({'N': parir.threads(2)})

    def too_big_for_int8(x, N):
        parir.label('N')
        for i in range(N):
            x[i] = x[i] + 1000

    compile_error(too_big_for_int8, "x[i] = x[i] + 1000", "the int 1000 does not fit int8",
                  lambda f: f(np.zeros(2, np.int8), 2, opts=opts))

    def beyond_int64(x, N):
        parir.label('N')
        for i in range(N):
            x[i] = 100000000000000000000000

    compile_error(beyond_int64, "x[i] = 100000000000000000000000", "does not fit int64",
                  lambda f: f(np.zeros(2), 2, opts=opts))

    # int64's minimum written out is a negated literal one beyond int64.
    @parir.jit
    def int64_minimum(x, N):
        parir.label('N')
        for i in range(N):
            x[i] = -9223372036854775808 + i
    x = np.zeros(2, np.int64)
    int64_minimum(x, 2, opts=opts)
    assert x.tolist() == [-2**63, -2**63 + 1]


def test_slice_statement_labels_must_fit_its_loops():
    def extra_label(x, y, N):
        parir.label('N')
        parir.label('M')
        y[:] = x[:]

    compile_error(extra_label, "y[:] = x[:]", "this slice statement makes 1 loop(s) but has 2 label(s)",
                  lambda f: f(np.zeros(5), np.zeros(5), 5, opts=parir.par({'N': parir.threads(5)})))


def test_slice_statement_outside_parallel_loops_is_rejected():
    def unlabelled(x, y, N):
        parir.label('N')
        for i in range(N):
            x[i] = 1.0
        y[:] = x[:]

    error = compile_error(unlabelled, "y[:] = x[:]", "would run outside every parallel loop",
                          lambda f: f(np.zeros(5), np.zeros(5), 5, opts=parir.par({'N': parir.threads(5)})))
    assert "labels nothing" not in str(error)


def test_a_misspelt_label_in_the_specification_is_named():
    def loop(x, y, N):
        parir.label('N')
        for i in range(N):
            y[i] = x[i]

    compile_error(loop, "y[i] = x[i]", "(the parallel specification names 'n', which labels nothing here; "
                  "the code's labels are 'N')",
                  lambda f: f(np.zeros(5), np.zeros(5), 5, opts=parir.par({'n': parir.threads(5)})))


def test_slice_reductions_need_matching_element_types():
    def widening(x, y, N):
        parir.label('N')
        y[:] = parir.sum(x[:, :], axis=1)

    compile_error(widening, "y[:] = parir.sum", "the element types of a slice reduction must match",
                  lambda f: f(np.zeros((4, 3), np.float32), np.zeros(4), 4, opts=parir.par({'N': parir.threads(4)})))


def test_slice_reductions_of_expressions_need_one_shape_and_the_destinations_type():
    def mismatch(a, b, y, N):
        parir.label('N')
        y[0] = parir.sum(a[:] * b[1:])

    compile_error(mismatch, "b[1:]", "shape mismatch: this slice has 4 element(s) along its dimension 0 where "
                  "the first slice has 5",
                  lambda f: f(np.zeros(5), np.zeros(5), np.zeros(1), 5, opts=parir.par({'N': parir.threads(5)})))

    def into_ints(a, y, N):
        parir.label('N')
        y[0] = parir.sum(a[:] * 2.5)

    compile_error(into_ints, "y[0] = parir.sum", "parir.sum over float64 elements into an int64 array",
                  lambda f: f(np.zeros(5), np.zeros(1, np.int64), 5, opts=parir.par({'N': parir.threads(5)})))

    def no_slices(a, y, N):
        parir.label('N')
        y[0] = parir.sum(a[0] * 2.0)

    compile_error(no_slices, "y[0] = parir.sum", "takes a slice of an array, e.g. x[:, :], or an expression of slices",
                  lambda f: f(np.zeros(5), np.zeros(1), 5, opts=parir.par({'N': parir.threads(5)})))


@pytest.mark.parametrize("y, x", [
    (np.ones(4, np.int64), 2.5),
    (np.ones(4, np.uint8), np.ones(4, np.int8)),
    (np.ones(4, np.bool_), 1),
])
def test_slice_updates_cast_as_numpys_in_place_operations_do(y, x):
    """`y[:] *= 2.5` on integers is NumPy's UFuncTypeError (same_kind
    casting), not a silent truncation; what NumPy accepts runs."""
    def scale(y, x, N):
        parir.label('N')
        y[:] *= x

    def scale_by_slice(y, x, N):
        parir.label('N')
        y[:] *= x[:]

    function, text = (scale_by_slice, "y[:] *= x[:]") if isinstance(x, np.ndarray) else (scale, "y[:] *= x")
    opts = parir.par({'N': parir.threads(4)})
    with pytest.raises(TypeError, match="same_kind"):
        reference = y.copy()
        reference *= x
    compile_error(function, text, "which NumPy refuses (an in-place operation casts its result only to the same kind",
                  lambda f: f(y, x, 4, opts=opts))
    accepted = np.ones(4, np.float32)
    parir.jit(function)(accepted, x, 4, opts=opts)
    np.testing.assert_array_equal(accepted, np.ones(4, np.float32) * np.float32(1) * x)

    # The assignment suggested is of the update's own operator.
    def add_slice(y, x, N):
        parir.label('N')
        y[:] += x[:]
    compile_error(add_slice, "y[:] += x[:]", "assign (`y[:] = y[:] + v`) to convert as a store does",
                  lambda f: f(np.ones(4, np.uint8), np.ones(4, np.int8), 4, opts=opts))


def test_run_time_slice_bounds_and_extents_are_checked_with_debug(capsys):
    @parir.jit
    def window(x, y, lo, hi):
        parir.label('N')
        for i in range(1):
            parir.label('M')
            y[lo[0]:hi[0]] = x[lo[0]:hi[0]]

    # The bounds clamp to each axis, as Python's: 2:9 is 2:4 of x and 2:6
    # of y, which do not match: NumPy's ValueError (it cannot broadcast),
    # not an index out of bounds.
    x, y = np.arange(4.0), np.zeros(6)
    opts = parir.par({'N': parir.threads(1)})
    with pytest.raises(ValueError, match="shape mismatch: the slices of this statement have different extents") as caught:
        window(x, y, np.array([2]), np.array([9]), opts=opts, debug=True)
    assert "y[lo[0]:hi[0]] = x[lo[0]:hi[0]]" in str(caught.value)
    assert not y.any(), "a failing check skips the statement"
    with pytest.raises(ValueError, match="could not broadcast"):
        y[2:9] = x[2:9]

    @parir.jit
    def copy_range(x, y, n):
        parir.label('N')
        y[n[0]:n[1]] = x[n[2]:n[3]]

    # Every element inside both arrays, the lengths 5 and 3.
    with pytest.raises(ValueError, match="shape mismatch"):
        copy_range(np.arange(10.0), y, np.array([0, 5, 0, 3]), opts=opts, debug=True)
    assert not y.any()
    window(x, y, np.array([2]), np.array([4]), opts=opts, debug=True)
    np.testing.assert_array_equal(y, [0, 0, 2, 3, 0, 0])
    capsys.readouterr()


def test_round_of_a_numpy_bool_is_refused_as_python_refuses_it():
    def rounds(b, y, N):
        parir.label('N')
        for i in range(N):
            y[i] = round(b[i])
    compile_error(rounds, "y[i] = round(b[i])", "round() of a NumPy bool, which defines no __round__",
                  lambda f: f(np.array([True, False]), np.zeros(2), 2, opts=parir.par({'N': parir.threads(2)})))
    with pytest.raises(TypeError):
        round(np.True_)


def test_a_float_point_index_in_a_slice_is_named_as_an_index():
    def float_row(x, y, N):
        parir.label('N')
        y[:] = x[1.5, :]

    compile_error(float_row, "y[:] = x[1.5, :]", "array indices are integers, got float",
                  lambda f: f(np.zeros((2, 3)), np.zeros(3), 3, opts=parir.par({'N': parir.threads(3)})))


def test_a_for_loop_with_two_labels_is_an_error_at_decoration():
    def two_labels(x, y, n):
        parir.label('N')
        parir.label('M')
        for i in range(n):
            y[i] = x[i]
    compile_error(two_labels, "parir.label('M')", "a for-loop takes one label, and this one has 2: 'N', 'M'")


def test_keyword_arguments_in_calls_say_they_are_not_supported():
    def keyword_call(x, y, n):
        parir.label('N')
        for i in range(n):
            y[i] = max(x[i], b=1.0)
    compile_error(keyword_call, "y[i] = max(x[i], b=1.0)", "keyword arguments (`b=...`) are not supported")


def test_math_and_numpy_names_jit_functions_do_not_know():
    def unknown_function(x):
        x[0] = math.gamma(x[1])
    compile_error(unknown_function, "math.gamma", "math.gamma cannot be called in JIT functions")

    def unknown_imported_function(x):
        x[0] = lgamma(x[1])
    compile_error(unknown_imported_function, "lgamma", "math.lgamma cannot be called in JIT functions")

    def unknown_constant(x):
        x[0] = np.euler_gamma
    compile_error(unknown_constant, "np.euler_gamma", "np.euler_gamma is not a value JIT functions know")

    def numpy_min_of_two(x):
        x[0] = np.min(x[1], x[2])
    compile_error(numpy_min_of_two, "np.min(x[1], x[2])",
                  "np.min takes one array slice (and axis=); of values, use min(a, b) or np.minimum(a, b)")

    # Python's min and max of several arrays compare them as wholes,
    # which NumPy refuses; this once computed element by element.
    def builtin_min_of_slices(x, y):
        parir.label('N')
        y[:] = min(x[:], y[:])
    compile_error(builtin_min_of_slices, "y[:] = min(x[:], y[:])",
                  "Python's min() compares whole arrays, which NumPy refuses (an ambiguous truth value): "
                  "use np.minimum(a[:], b[:]) element by element, or parir.min(x[:]) to reduce")

    def builtin_max_of_a_slice_and_a_number(x, y):
        parir.label('N')
        y[:] = max(x[:] * 2, 0.5)
    compile_error(builtin_max_of_a_slice_and_a_number, "max(x[:] * 2, 0.5)", "use np.maximum(a[:], b[:])")

    def complex_power(x):
        parir.label('N')
        for i in range(4):
            x[i] = (-2) ** 0.5
    compile_error(complex_power, "(-2) ** 0.5", "a negative Python number to a fractional power is a complex "
                  "number in Python", call=lambda f: f(np.zeros(4), opts=parir.par({'N': parir.threads(4)})))

    def negative_constant_power(x):
        parir.label('N')
        for i in range(4):
            x[i] = i ** -2
    compile_error(negative_constant_power, "i ** -2", "integers to negative integer powers are not allowed",
                  call=lambda f: f(np.zeros(4), opts=parir.par({'N': parir.threads(4)})))

    def minimum_of_one(x):
        x[0] = np.minimum(x[1])
    compile_error(minimum_of_one, "np.minimum(x[1])", "np.minimum takes two values, got 1")

    def rounded_to_digits(x):
        x[0] = round(x[1], 2)
    compile_error(rounded_to_digits, "round(x[1], 2)", "round(x, ndigits) is not supported")

    def logarithm_to_a_base(x, n):
        parir.label('N')
        for i in range(n):
            x[i] = math.log(x[i], 2)
    compile_error(logarithm_to_a_base, "math.log(x[i], 2)", "log() takes 1 argument(s), got 2",
                  call=lambda j: j(np.ones(2), 2, opts=parir.par({'N': parir.threads(2)})))


def test_shapes_and_tuple_assignments_that_python_rejects_too():
    call = lambda j: j(np.zeros((2, 3)), 2, opts=parir.par({'N': parir.threads(2)}))  # noqa: E731

    def axis_out_of_range(x, n):
        parir.label('N')
        for i in range(n):
            x[i, 0] = x.shape[2]
    compile_error(axis_out_of_range, "x.shape[2]", "`x` has 2 dimension(s): axis 2 is out of range", call=call)

    def shape_of_a_scalar(x, n):
        parir.label('N')
        for i in range(n):
            x[i, 0] = n.shape[0]
    compile_error(shape_of_a_scalar, "n.shape[0]", "`n` is not an array", call=call)

    def whole_shape(x, n):
        parir.label('N')
        for i in range(n):
            x[i, 0] = x.shape
    compile_error(whole_shape, "x.shape", "x.shape is a tuple")

    def shape_into_three(x, n):
        parir.label('N')
        for i in range(n):
            a, b, c = x.shape
            x[i, 0] = a
    compile_error(shape_into_three, "a, b, c = x.shape", "its shape cannot be assigned to 3 names", call=call)

    def too_many_values(x, n):
        parir.label('N')
        for i in range(n):
            a, b = 1.0, 2.0, 3.0
    compile_error(too_many_values, "a, b = 1.0, 2.0, 3.0", "3 values cannot be assigned to 2 targets")

    def starred(x, n):
        parir.label('N')
        for i in range(n):
            a, *b = x[i, 0], x[i, 1]
    compile_error(starred, "*b", "starred assignment")

    def from_a_call(x, n):
        parir.label('N')
        for i in range(n):
            a, b = divmod(x[i, 0], 2)
    compile_error(from_a_call, "divmod(x[i, 0], 2)", "takes a tuple of values")


def test_break_and_continue_out_of_a_device_block():
    def stops_early(x, n):
        parir.label('N')
        for i in range(n):
            if x[i] > 0:
                break
    compile_error(stops_early, "break", "break cannot stop a parallel loop (labelled)")

    def leaves_the_block(x, n):
        for i in range(n):
            with parir.gpu:
                if x[i] > 0:
                    continue
                x[i] = 1.0
    compile_error(leaves_the_block, "    continue", "continue and break cannot leave a `with parir.gpu:` block")


def test_float_of_a_string_that_is_no_number():
    def not_a_number(x):
        x[0] = float('many')
    compile_error(not_a_number, "'many'", "float(\"many\"): JIT functions read strings of numbers, inf and nan")


def test_division_by_zero_between_python_numbers():
    def ratio(y, k, m, n):
        parir.label('N')
        for i in range(n):
            y[i] = k / m
    for k, m in [(1, 0), (1.0, 0.0), (1, -0.0)]:
        compile_error(ratio, "k / m", "division by zero between Python numbers (Python raises ZeroDivisionError)",
                      call=lambda j: j(np.zeros(2), k, m, 2, opts=parir.par({'N': parir.threads(2)})))
    # NumPy's numbers divide as NumPy does.
    y = np.zeros(2)
    with np.errstate(divide="ignore"):
        parir.jit(ratio)(y, np.float64(1), np.float64(0), 2, opts=parir.par({'N': parir.threads(2)}))
    assert np.isposinf(y).all()
