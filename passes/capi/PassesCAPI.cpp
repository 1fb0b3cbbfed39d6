//===- PassesCAPI.cpp - pass registration for the Python extension --------===//

#include "dialect/capi/SparseEncCAPI.h"
#include "passes/Passes.h"

void mlirRegisterSparseEncPasses(void) {
  mcusparse::registerSparseEncPasses();
  mcusparse::registerSparseEncPipelines();
}
