func.func @f() {
  // expected-error@+1 {{this is never reported}}
  return
}
