//===- SparseEncCAPI.cpp - C API of the sparse_enc dialect ----------------===//

#include "dialect/capi/SparseEncCAPI.h"
#include "dialect/SparseEncDialect.h"
#include "dialect/StorageLayout.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Registration.h"
#include "mlir/CAPI/Support.h"
#include "mlir/IR/Diagnostics.h"

using namespace mlir;
using namespace mcusparse::sparse_enc;

MLIR_DEFINE_CAPI_DIALECT_REGISTRATION(SparseEnc, sparse_enc, SparseEncDialect)

// Each encoding gets the same trio: isa, type id, get; then its getters.
#define SPARSE_ENC_ATTR_BASICS(Name)                                           \
  bool mlirAttributeIsASparseEnc##Name(MlirAttribute attr) {                   \
    return isa<Name##Attr>(unwrap(attr));                                      \
  }                                                                            \
  MlirTypeID mlirSparseEnc##Name##AttrGetTypeID(void) {                        \
    return wrap(TypeID::get<Name##Attr>());                                    \
  }

SPARSE_ENC_ATTR_BASICS(CSR)
SPARSE_ENC_ATTR_BASICS(DCSR)
SPARSE_ENC_ATTR_BASICS(NM)
SPARSE_ENC_ATTR_BASICS(GS)
#undef SPARSE_ENC_ATTR_BASICS

/// Builds an attribute through its verifier; a failure reports the
/// diagnostic text instead of asserting.
template <typename AttrT, typename... Params>
static MlirAttribute getChecked(MlirContext ctx, MlirStringCallback onError,
                                void *userData, Params... params) {
  MLIRContext *context = unwrap(ctx);
  std::string message;
  AttrT attr;
  {
    ScopedDiagnosticHandler capture(context, [&](Diagnostic &diag) {
      message = diag.str();
      return success();
    });
    attr = AttrT::getChecked(
        [&] { return emitError(UnknownLoc::get(context)); }, context,
        params...);
  }
  if (!attr)
    onError(wrap(StringRef(message)), userData);
  return wrap(attr);
}

MlirAttribute mlirSparseEncCSRAttrGet(MlirContext ctx, int64_t crdBits,
                                      int64_t posBits,
                                      MlirStringCallback onError,
                                      void *userData) {
  return getChecked<CSRAttr>(ctx, onError, userData, crdBits, posBits);
}
int64_t mlirSparseEncCSRAttrGetCrdBits(MlirAttribute attr) {
  return cast<CSRAttr>(unwrap(attr)).getCrdBits();
}
int64_t mlirSparseEncCSRAttrGetPosBits(MlirAttribute attr) {
  return cast<CSRAttr>(unwrap(attr)).getPosBits();
}

MlirAttribute mlirSparseEncDCSRAttrGet(MlirContext ctx, int64_t group,
                                       int64_t deltaBits,
                                       MlirStringCallback onError,
                                       void *userData) {
  return getChecked<DCSRAttr>(ctx, onError, userData, group, deltaBits);
}
int64_t mlirSparseEncDCSRAttrGetGroup(MlirAttribute attr) {
  return cast<DCSRAttr>(unwrap(attr)).getGroup();
}
int64_t mlirSparseEncDCSRAttrGetDeltaBits(MlirAttribute attr) {
  return cast<DCSRAttr>(unwrap(attr)).getDeltaBits();
}

MlirAttribute mlirSparseEncNMAttrGet(MlirContext ctx, int64_t n, int64_t m,
                                     MlirStringCallback onError,
                                     void *userData) {
  return getChecked<NMAttr>(ctx, onError, userData, n, m);
}
int64_t mlirSparseEncNMAttrGetN(MlirAttribute attr) {
  return cast<NMAttr>(unwrap(attr)).getN();
}
int64_t mlirSparseEncNMAttrGetM(MlirAttribute attr) {
  return cast<NMAttr>(unwrap(attr)).getM();
}

MlirAttribute mlirSparseEncGSAttrGet(MlirContext ctx, int64_t lanes,
                                     MlirStringCallback onError,
                                     void *userData) {
  return getChecked<GSAttr>(ctx, onError, userData, lanes);
}
int64_t mlirSparseEncGSAttrGetLanes(MlirAttribute attr) {
  return cast<GSAttr>(unwrap(attr)).getLanes();
}

void mlirSparseEncGetStorageBufferNames(MlirType tensorType,
                                        MlirStringCallback callback,
                                        void *userData) {
  auto type = dyn_cast<RankedTensorType>(unwrap(tensorType));
  if (!type || !hasSparseEncoding(type))
    return;
  for (const StorageBuffer &buffer : getStorageBuffers(type))
    callback(wrap(buffer.name), userData);
}
