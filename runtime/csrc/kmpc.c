/*
 * The entry points of the OpenMP runtime ABI (__kmpc_*) that MLIR's OpenMP
 * lowering calls, for parallel loops compiled by the JIT. This file holds
 * only what needs C: reading the variadic arguments of fork_call and
 * calling the outlined region with them. The team itself runs on the
 * runtime's worker pool (src/parallel.rs): no OpenMP thread pool exists.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

typedef void (*parla_microtask)(int32_t *gtid, int32_t *btid, ...);

/* Defined in Rust: runs `task` once per team member. */
void parla_run_team(parla_microtask task, int32_t argc, void **args);

enum { PARLA_MAX_REGION_ARGS = 16 };

void parla_kmpc_fork_call(void *loc, int32_t argc, parla_microtask task, ...) {
  (void)loc;
  void *args[PARLA_MAX_REGION_ARGS];
  if (argc < 0 || argc > PARLA_MAX_REGION_ARGS)
    abort(); /* MLIR passes the region's values in one struct: argc is 1 */
  va_list list;
  va_start(list, task);
  for (int32_t i = 0; i < argc; ++i)
    args[i] = va_arg(list, void *);
  va_end(list);
  parla_run_team(task, argc, args);
}

/* Calls the outlined region as team member `gtid`. */
void parla_invoke_microtask(parla_microtask task, int32_t gtid, int32_t argc, void **args) {
  int32_t global = gtid, bound = gtid;
  switch (argc) {
  case 0: task(&global, &bound); break;
  case 1: task(&global, &bound, args[0]); break;
  case 2: task(&global, &bound, args[0], args[1]); break;
  case 3: task(&global, &bound, args[0], args[1], args[2]); break;
  case 4: task(&global, &bound, args[0], args[1], args[2], args[3]); break;
  case 5: task(&global, &bound, args[0], args[1], args[2], args[3], args[4]); break;
  case 6: task(&global, &bound, args[0], args[1], args[2], args[3], args[4], args[5]); break;
  case 7: task(&global, &bound, args[0], args[1], args[2], args[3], args[4], args[5], args[6]); break;
  case 8: task(&global, &bound, args[0], args[1], args[2], args[3], args[4], args[5], args[6], args[7]); break;
  default: {
    /* More than 8 values: MLIR aggregates region arguments into one struct,
       so this does not happen; pass the first 16 positionally anyway. */
    task(&global, &bound, args[0], args[1], args[2], args[3], args[4], args[5], args[6], args[7],
         args[8], args[9], args[10], args[11], args[12], args[13], args[14], args[15]);
  }
  }
}
