//===- sparse-opt.cpp - mlir-opt with the sparse_enc dialect and passes ---===//

#include "dialect/SparseEncDialect.h"
#include "passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mcusparse::registerSparseEncPasses();
  mcusparse::registerSparseEncPipelines();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<mcusparse::sparse_enc::SparseEncDialect>();

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "mcusparse optimizer driver\n", registry));
}
