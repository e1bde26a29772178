// An op of our dialect that does not exist.
func.func @f() {
  looppar.nonsense
  return
}
