// RUN: parla-opt %s --split-input-file --looppar-if-convert-updates | FileCheck %s
// RUN: parla-opt %s --split-input-file --looppar-if-convert-updates --looppar-detect-reductions | FileCheck %s --check-prefix=RED

// if x[j] > 0.5: s += x[j] (s a float64 local): the contribution is chosen
// under the condition, -0.0 where it is false, and the update is the
// reduction looppar-detect-reductions finds.
// CHECK-LABEL: func.func @conditional_sum
// CHECK: %[[S:.*]] = memref.alloca() : memref<f64>
// CHECK: "looppar.for"
// CHECK: %[[C:.*]] = arith.cmpf ogt
// CHECK: %[[ZERO:.*]] = arith.constant -0.000000e+00 : f64
// CHECK: %[[V:.*]] = scf.if %[[C]] -> (f64) {
// CHECK:   %[[X:.*]] = memref.load %{{.*}}[%{{.*}}] : memref<64xf32>
// CHECK:   %[[E:.*]] = arith.extf %[[X]] : f32 to f64
// CHECK:   scf.yield %[[E]] : f64
// CHECK: } else {
// CHECK:   scf.yield %[[ZERO]] : f64
// CHECK: }
// CHECK-NEXT: %[[OLD:.*]] = memref.load %[[S]][] : memref<f64>
// CHECK-NEXT: %[[NEW:.*]] = arith.addf %[[OLD]], %[[V]] : f64
// CHECK: memref.store %[[NEW]], %[[S]][] : memref<f64>
// CHECK-NOT: scf.if
// RED-LABEL: func.func @conditional_sum
// RED: }) {label = "M", reduction = "add", threads = 64 : i64}
func.func @conditional_sum(%x: memref<64xf32>, %y: memref<1xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 64 : index
  %half = arith.constant 0.5 : f32
  %zero = arith.constant 0.0 : f64
  %s = memref.alloca() : memref<f64>
  memref.store %zero, %s[] : memref<f64>
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%j: index):
    %v = memref.load %x[%j] : memref<64xf32>
    %c = arith.cmpf ogt, %v, %half : f32
    scf.if %c {
      %old = memref.load %s[] : memref<f64>
      %again = memref.load %x[%j] : memref<64xf32>
      %wide = arith.extf %again : f32 to f64
      %new = arith.addf %old, %wide : f64
      memref.store %new, %s[] : memref<f64>
    }
    "looppar.yield"() : () -> ()
  }) {label = "M", threads = 64 : i64} : (index, index, index) -> ()
  %r = memref.load %s[] : memref<f64>
  memref.store %r, %y[%c0] : memref<1xf64>
  return
}

// -----

// if c: m = max(m, a) elif d: m = max(m, b) (i32): the inner condition
// becomes an update of the else branch, then the whole chain one update;
// no branch updating gives INT32_MIN. Both branches updating need no
// identity.
// CHECK-LABEL: func.func @elif_chain
// CHECK: %[[V:.*]] = scf.if %{{.*}} -> (i32) {
// CHECK:   scf.yield %{{.*}} : i32
// CHECK: } else {
// CHECK:   %[[MIN:.*]] = arith.constant -2147483648 : i32
// CHECK:   %[[INNER:.*]] = scf.if %{{.*}} -> (i32) {
// CHECK:     scf.yield %{{.*}} : i32
// CHECK:   } else {
// CHECK:     scf.yield %[[MIN]] : i32
// CHECK:   }
// CHECK:   scf.yield %[[INNER]] : i32
// CHECK: }
// CHECK-NEXT: %[[OLD:.*]] = memref.load %[[M:.*]][] : memref<i32>
// CHECK-NEXT: %[[NEW:.*]] = arith.maxsi %[[OLD]], %[[V]] : i32
// CHECK: memref.store %[[NEW]], %[[M]][] : memref<i32>
// CHECK-NEXT: "looppar.yield"
// RED-LABEL: func.func @elif_chain
// RED: reduction = "max"
func.func @elif_chain(%a: memref<8xi32>, %b: memref<8xi32>, %out: memref<1xi32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %lowest = arith.constant -2147483648 : i32
  %m = memref.alloca() : memref<i32>
  memref.store %lowest, %m[] : memref<i32>
  "looppar.for"(%c0, %c8, %c1) ({
  ^bb0(%i: index):
    %c = arith.cmpi ult, %i, %c4 : index
    scf.if %c {
      %old = memref.load %m[] : memref<i32>
      %v = memref.load %a[%i] : memref<8xi32>
      %new = arith.maxsi %old, %v : i32
      memref.store %new, %m[] : memref<i32>
    } else {
      %d = arith.cmpi ugt, %i, %c4 : index
      scf.if %d {
        %old = memref.load %m[] : memref<i32>
        %v = memref.load %b[%i] : memref<8xi32>
        %new = arith.maxsi %v, %old : i32
        memref.store %new, %m[] : memref<i32>
      }
    }
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 8 : i64} : (index, index, index) -> ()
  %r = memref.load %m[] : memref<i32>
  memref.store %r, %out[%c0] : memref<1xi32>
  return
}

// -----

// Only the else branch updates (s *= 2 unless c): the then branch yields
// the identity, 1.
// CHECK-LABEL: func.func @else_only
// CHECK: memref.store
// CHECK: %[[ONE:.*]] = arith.constant 1 : i64
// CHECK-NEXT: %[[V:.*]] = scf.if %{{.*}} -> (i64) {
// CHECK:   scf.yield %[[ONE]] : i64
// CHECK: } else {
// CHECK:   scf.yield %{{.*}} : i64
// CHECK: }
// CHECK-NEXT: memref.load
// CHECK-NEXT: arith.muli %{{.*}}, %[[V]] : i64
func.func @else_only(%c: i1, %out: memref<1xi64>) {
  %c0 = arith.constant 0 : index
  %one = arith.constant 1 : i64
  %two = arith.constant 2 : i64
  %s = memref.alloca() : memref<i64>
  memref.store %one, %s[] : memref<i64>
  scf.if %c {
  } else {
    %old = memref.load %s[] : memref<i64>
    %new = arith.muli %old, %two : i64
    memref.store %new, %s[] : memref<i64>
  }
  %r = memref.load %s[] : memref<i64>
  memref.store %r, %out[%c0] : memref<1xi64>
  return
}

// -----

// Bitwise updates yield their identities where the condition is false:
// every bit set for and, zero for or and xor.
// CHECK-LABEL: func.func @bitwise
// CHECK: %[[ONES:.*]] = arith.constant -1 : i16
// CHECK: %[[ZERO:.*]] = arith.constant 0 : i16
// CHECK: %[[ZERO2:.*]] = arith.constant 0 : i16
// CHECK: %[[V:.*]]:3 = scf.if %{{.*}} -> (i16, i16, i16) {
// CHECK:   scf.yield %{{.*}}, %{{.*}}, %{{.*}} : i16, i16, i16
// CHECK: } else {
// CHECK:   scf.yield %[[ONES]], %[[ZERO]], %[[ZERO2]] : i16, i16, i16
// CHECK: }
// CHECK: arith.andi %{{.*}}, %[[V]]#0 : i16
// CHECK: arith.ori %{{.*}}, %[[V]]#1 : i16
// CHECK: arith.xori %{{.*}}, %[[V]]#2 : i16
// CHECK-NOT: scf.if
func.func @bitwise(%c: i1, %v: i16, %out: memref<3xi16>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %a = memref.alloca() : memref<i16>
  %o = memref.alloca() : memref<i16>
  %x = memref.alloca() : memref<i16>
  scf.if %c {
    %0 = memref.load %a[] : memref<i16>
    %1 = arith.andi %0, %v : i16
    memref.store %1, %a[] : memref<i16>
    %2 = memref.load %o[] : memref<i16>
    %3 = arith.ori %2, %v : i16
    memref.store %3, %o[] : memref<i16>
    %4 = memref.load %x[] : memref<i16>
    %5 = arith.xori %4, %v : i16
    memref.store %5, %x[] : memref<i16>
  }
  %ra = memref.load %a[] : memref<i16>
  memref.store %ra, %out[%c0] : memref<3xi16>
  %ro = memref.load %o[] : memref<i16>
  memref.store %ro, %out[%c1] : memref<3xi16>
  %rx = memref.load %x[] : memref<i16>
  memref.store %rx, %out[%c2] : memref<3xi16>
  return
}

// -----

// Left as written: an array element at an index not known when compiling
// (its load could fault where the condition is false), a local the branch also reads, a local the other
// branch overwrites, a combining op without an exact identity (minnumf
// drops NaN), and index values (no atomic form).
// CHECK-LABEL: func.func @kept
// CHECK-COUNT-5: scf.if %{{[^ ]*}} {
// CHECK-NOT: scf.if %{{.*}} ->
func.func @kept(%c: i1, %y: memref<4xf32>, %z: memref<1xf32>, %v: f32, %k: index) {
  %c0 = arith.constant 0 : index
  %s = memref.alloca() : memref<f32>
  %t = memref.alloca() : memref<f32>
  %u = memref.alloca() : memref<f32>
  %w = memref.alloca() : memref<index>
  scf.if %c {
    %old = memref.load %y[%k] : memref<4xf32>
    %new = arith.addf %old, %v : f32
    memref.store %new, %y[%k] : memref<4xf32>
  }
  scf.if %c {
    %old = memref.load %s[] : memref<f32>
    %new = arith.addf %old, %v : f32
    memref.store %new, %s[] : memref<f32>
    %seen = memref.load %s[] : memref<f32>
    memref.store %seen, %z[%c0] : memref<1xf32>
  }
  scf.if %c {
    %old = memref.load %t[] : memref<f32>
    %new = arith.addf %old, %v : f32
    memref.store %new, %t[] : memref<f32>
  } else {
    memref.store %v, %t[] : memref<f32>
  }
  scf.if %c {
    %old = memref.load %u[] : memref<f32>
    %new = arith.minnumf %old, %v : f32
    memref.store %new, %u[] : memref<f32>
  }
  scf.if %c {
    %old = memref.load %w[] : memref<index>
    %new = arith.addi %old, %k : index
    memref.store %new, %w[] : memref<index>
  }
  return
}

// -----

// Also left: a local that another value aliases (the load would move above
// the store through the cast), branches whose updates differ in flags (the
// merged op would give the else branch `nsw`), and a local allocated in
// the branch (its load cannot move above its allocation).
// CHECK-LABEL: func.func @kept_too
// CHECK-COUNT-3: scf.if %{{[^ ]*}} {
// CHECK-NOT: scf.if %{{.*}} ->
func.func @kept_too(%c: i1, %v: f32, %i: i32, %j: i32) {
  %s = memref.alloca() : memref<f32>
  %a = memref.cast %s : memref<f32> to memref<f32, strided<[], offset: ?>>
  scf.if %c {
    memref.store %v, %a[] : memref<f32, strided<[], offset: ?>>
    %old = memref.load %s[] : memref<f32>
    %new = arith.addf %old, %v : f32
    memref.store %new, %s[] : memref<f32>
  }
  %t = memref.alloca() : memref<i32>
  scf.if %c {
    %old = memref.load %t[] : memref<i32>
    %new = arith.addi %old, %i overflow<nsw> : i32
    memref.store %new, %t[] : memref<i32>
  } else {
    %old = memref.load %t[] : memref<i32>
    %new = arith.addi %old, %j : i32
    memref.store %new, %t[] : memref<i32>
  }
  scf.if %c {
    %u = memref.alloca() : memref<f32>
    %old = memref.load %u[] : memref<f32>
    %new = arith.addf %old, %v : f32
    memref.store %new, %u[] : memref<f32>
  }
  return
}

// -----

// Every local of a condition at once: s and q in the then branch, r in the
// else branch; one scf.if yields the three contributions.
// CHECK-LABEL: func.func @several
// CHECK: %[[V:.*]]:3 = scf.if %{{.*}} -> (f32, i32, f32) {
// CHECK:   scf.yield %{{.*}}, %{{.*}}, %{{.*}} : f32, i32, f32
// CHECK: } else {
// CHECK:   scf.yield %{{.*}}, %{{.*}}, %{{.*}} : f32, i32, f32
// CHECK: }
// CHECK: arith.addf %{{.*}}, %[[V]]#0 : f32
// CHECK: arith.muli %{{.*}}, %[[V]]#1 : i32
// CHECK: arith.maximumf %{{.*}}, %[[V]]#2 : f32
// CHECK-NOT: scf.if
// RED-LABEL: func.func @several
// RED: reduction = "add"
func.func @several(%x: memref<64xf32>, %k: memref<64xi32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 64 : index
  %half = arith.constant 0.5 : f32
  %s = memref.alloca() : memref<f32>
  %q = memref.alloca() : memref<i32>
  %r = memref.alloca() : memref<f32>
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%j: index):
    %v = memref.load %x[%j] : memref<64xf32>
    %c = arith.cmpf ogt, %v, %half : f32
    scf.if %c {
      %old = memref.load %s[] : memref<f32>
      %new = arith.addf %old, %v : f32
      memref.store %new, %s[] : memref<f32>
      %w = memref.load %k[%j] : memref<64xi32>
      %qold = memref.load %q[] : memref<i32>
      %qnew = arith.muli %qold, %w : i32
      memref.store %qnew, %q[] : memref<i32>
    } else {
      %rold = memref.load %r[] : memref<f32>
      %rnew = arith.maximumf %rold, %v : f32
      memref.store %rnew, %r[] : memref<f32>
    }
    "looppar.yield"() : () -> ()
  }) {label = "M", threads = 64 : i64} : (index, index, index) -> ()
  return
}

// -----

// An element of an array parameter at constant indices within its shape
// cannot fault, so its update converts as a local's does (and becomes a
// reduction of the loop); one at a constant outside the shape, and
// branches updating different elements of one array, stay.
// CHECK-LABEL: func.func @known_element
// CHECK: %[[V:.*]] = scf.if %{{.*}} -> (f64) {
// CHECK: %[[OLD:.*]] = memref.load %arg1[%{{.*}}, %{{.*}}] : memref<2x3xf64>
// CHECK-NEXT: %[[NEW:.*]] = arith.addf %[[OLD]], %[[V]] : f64
// CHECK-NEXT: memref.store %[[NEW]], %arg1[%{{.*}}, %{{.*}}] : memref<2x3xf64>
// CHECK-COUNT-2: scf.if %{{[^ ]*}} {
// CHECK-NOT: scf.if %{{.*}} ->
// RED-LABEL: func.func @known_element
// RED: }) {label = "N", reduction = "add", threads = 64 : i64}
func.func @known_element(%x: memref<64xf64>, %y: memref<2x3xf64>, %z: memref<4xf64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c7 = arith.constant 7 : index
  %n = arith.constant 64 : index
  %zero = arith.constant 0.0 : f64
  "looppar.for"(%c0, %n, %c1) ({
  ^bb0(%i: index):
    %v = memref.load %x[%i] : memref<64xf64>
    %c = arith.cmpf ogt, %v, %zero : f64
    scf.if %c {
      %old = memref.load %y[%c1, %c2] : memref<2x3xf64>
      %new = arith.addf %old, %v : f64
      memref.store %new, %y[%c1, %c2] : memref<2x3xf64>
    }
    "looppar.yield"() : () -> ()
  }) {label = "N", threads = 64 : i64} : (index, index, index) -> ()
  %v = memref.load %x[%c0] : memref<64xf64>
  %c = arith.cmpf ogt, %v, %zero : f64
  scf.if %c {
    %old = memref.load %z[%c7] : memref<4xf64>
    %new = arith.addf %old, %v : f64
    memref.store %new, %z[%c7] : memref<4xf64>
  }
  scf.if %c {
    %old = memref.load %z[%c0] : memref<4xf64>
    %new = arith.addf %old, %v : f64
    memref.store %new, %z[%c0] : memref<4xf64>
  } else {
    %old = memref.load %z[%c1] : memref<4xf64>
    %new = arith.addf %old, %v : f64
    memref.store %new, %z[%c1] : memref<4xf64>
  }
  return
}
