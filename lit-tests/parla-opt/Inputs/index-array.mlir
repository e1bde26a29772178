// MLIR's parser would crash on this attribute rather than reject it.
module attributes {test.x = array<index: 1>} {}
