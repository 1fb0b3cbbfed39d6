/*===- SparseEncCAPI.h - C API of the sparse_enc dialect -------------------===*\
|*                                                                            *|
|* Used by the Python extension, which links the mlir wheel's C API library   *|
|* rather than libMLIR.so (one copy of MLIR per process).                    *|
\*===----------------------------------------------------------------------===*/

#ifndef MCUSPARSE_DIALECT_CAPI_SPARSEENCCAPI_H
#define MCUSPARSE_DIALECT_CAPI_SPARSEENCCAPI_H

#include "mlir-c/IR.h"
#include "mlir-c/Support.h"

#ifdef __cplusplus
extern "C" {
#endif

MLIR_DECLARE_CAPI_DIALECT_REGISTRATION(SparseEnc, sparse_enc);

/* The *Get functions verify their parameters: on failure they pass the
 * diagnostic text to `onError` and return a null attribute. */

/* #sparse_enc.csr<crd_bits, pos_bits> */
MLIR_CAPI_EXPORTED bool mlirAttributeIsASparseEncCSR(MlirAttribute attr);
MLIR_CAPI_EXPORTED MlirTypeID mlirSparseEncCSRAttrGetTypeID(void);
MLIR_CAPI_EXPORTED MlirAttribute mlirSparseEncCSRAttrGet(
    MlirContext ctx, int64_t crdBits, int64_t posBits,
    MlirStringCallback onError, void *userData);
MLIR_CAPI_EXPORTED int64_t mlirSparseEncCSRAttrGetCrdBits(MlirAttribute attr);
MLIR_CAPI_EXPORTED int64_t mlirSparseEncCSRAttrGetPosBits(MlirAttribute attr);

/* #sparse_enc.dcsr<group, delta_bits> */
MLIR_CAPI_EXPORTED bool mlirAttributeIsASparseEncDCSR(MlirAttribute attr);
MLIR_CAPI_EXPORTED MlirTypeID mlirSparseEncDCSRAttrGetTypeID(void);
MLIR_CAPI_EXPORTED MlirAttribute
mlirSparseEncDCSRAttrGet(MlirContext ctx, int64_t group, int64_t deltaBits,
                         MlirStringCallback onError, void *userData);
MLIR_CAPI_EXPORTED int64_t mlirSparseEncDCSRAttrGetGroup(MlirAttribute attr);
MLIR_CAPI_EXPORTED int64_t
mlirSparseEncDCSRAttrGetDeltaBits(MlirAttribute attr);

/* #sparse_enc.nm<n, m> */
MLIR_CAPI_EXPORTED bool mlirAttributeIsASparseEncNM(MlirAttribute attr);
MLIR_CAPI_EXPORTED MlirTypeID mlirSparseEncNMAttrGetTypeID(void);
MLIR_CAPI_EXPORTED MlirAttribute mlirSparseEncNMAttrGet(
    MlirContext ctx, int64_t n, int64_t m, MlirStringCallback onError,
    void *userData);
MLIR_CAPI_EXPORTED int64_t mlirSparseEncNMAttrGetN(MlirAttribute attr);
MLIR_CAPI_EXPORTED int64_t mlirSparseEncNMAttrGetM(MlirAttribute attr);

/* #sparse_enc.gs<lanes> */
MLIR_CAPI_EXPORTED bool mlirAttributeIsASparseEncGS(MlirAttribute attr);
MLIR_CAPI_EXPORTED MlirTypeID mlirSparseEncGSAttrGetTypeID(void);
MLIR_CAPI_EXPORTED MlirAttribute mlirSparseEncGSAttrGet(
    MlirContext ctx, int64_t lanes, MlirStringCallback onError, void *userData);
MLIR_CAPI_EXPORTED int64_t mlirSparseEncGSAttrGetLanes(MlirAttribute attr);

/* Calls `callback` once per storage buffer name of an encoded tensor type,
 * in sparse_enc.assemble operand order (no calls without an encoding). */
MLIR_CAPI_EXPORTED void mlirSparseEncGetStorageBufferNames(
    MlirType tensorType, MlirStringCallback callback, void *userData);

/* Registers the sparse-enc-* passes with the global pass registry. */
MLIR_CAPI_EXPORTED void mlirRegisterSparseEncPasses(void);

#ifdef __cplusplus
}
#endif

#endif /* MCUSPARSE_DIALECT_CAPI_SPARSEENCCAPI_H */
