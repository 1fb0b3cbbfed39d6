//===- SparseEncExtension.cpp - Python bindings of sparse_enc -------------===//
//
// Registers the dialect and passes with the `mlir` Python package and gives
// each encoding a typed Python class (NMAttr with .n/.m, ...). Attributes
// parsed from text come back as these classes automatically (type-id
// registration of mlir_attribute_subclass).
//
//===----------------------------------------------------------------------===//

#include "dialect/capi/SparseEncCAPI.h"

#include "mlir-c/IR.h"
#include "mlir/Bindings/Python/Nanobind.h"
#include "mlir/Bindings/Python/NanobindAdaptors.h"

#include <string>
#include <vector>

#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

namespace nb = nanobind;
using mlir::python::nanobind_adaptors::mlir_attribute_subclass;

namespace {

/// Collects the verifier's message of a failed *Get and raises it.
struct ErrorCollector {
  std::string message;
  static void append(MlirStringRef text, void *self) {
    static_cast<ErrorCollector *>(self)->message.append(text.data, text.length);
  }
  MlirAttribute check(MlirAttribute attr, const char *what) {
    if (mlirAttributeIsNull(attr))
      throw nb::value_error((std::string("invalid ") + what + ": " + message).c_str());
    return attr;
  }
};

} // namespace

NB_MODULE(_mcusparse_ext, m) {
  m.doc() = "Native part of mcusparse: the sparse_enc dialect and passes.";

  m.def(
      "register_dialect",
      [](MlirDialectRegistry registry) {
        mlirDialectHandleInsertDialect(mlirGetDialectHandle__sparse_enc__(),
                                       registry);
      },
      nb::arg("registry"),
      "Adds the sparse_enc dialect to a DialectRegistry.");
  m.def(
      "load_dialect",
      [](MlirContext context) {
        mlirDialectHandleRegisterDialect(mlirGetDialectHandle__sparse_enc__(),
                                         context);
        mlirDialectHandleLoadDialect(mlirGetDialectHandle__sparse_enc__(),
                                     context);
      },
      nb::arg("context"), "Registers and loads sparse_enc in one context.");
  m.def(
      "storage_buffer_names",
      [](MlirType tensorType) {
        std::vector<std::string> names;
        mlirSparseEncGetStorageBufferNames(
            tensorType,
            [](MlirStringRef name, void *user) {
              static_cast<std::vector<std::string> *>(user)->emplace_back(
                  name.data, name.length);
            },
            &names);
        return names;
      },
      nb::arg("tensor_type"),
      "Storage buffer names of an encoded tensor type, in assemble order.");
  m.def("register_passes", &mlirRegisterSparseEncPasses,
        "Registers the sparse-enc-* passes for PassManager.parse.");

  mlir_attribute_subclass(m, "CSRAttr", mlirAttributeIsASparseEncCSR,
                          mlirSparseEncCSRAttrGetTypeID)
      .def_classmethod(
          "get",
          [](nb::object cls, int64_t crdBits, int64_t posBits,
             MlirContext ctx) {
            ErrorCollector errors;
            return cls(errors.check(
                mlirSparseEncCSRAttrGet(ctx, crdBits, posBits,
                                        &ErrorCollector::append, &errors),
                "#sparse_enc.csr"));
          },
          nb::arg("cls"), nb::arg("crd_bits") = 16, nb::arg("pos_bits") = 16,
          nb::arg("context") = nb::none(), "#sparse_enc.csr<crd_bits, pos_bits>")
      .def_property_readonly("crd_bits", mlirSparseEncCSRAttrGetCrdBits)
      .def_property_readonly("pos_bits", mlirSparseEncCSRAttrGetPosBits);

  mlir_attribute_subclass(m, "DCSRAttr", mlirAttributeIsASparseEncDCSR,
                          mlirSparseEncDCSRAttrGetTypeID)
      .def_classmethod(
          "get",
          [](nb::object cls, int64_t group, int64_t deltaBits,
             MlirContext ctx) {
            ErrorCollector errors;
            return cls(errors.check(
                mlirSparseEncDCSRAttrGet(ctx, group, deltaBits,
                                         &ErrorCollector::append, &errors),
                "#sparse_enc.dcsr"));
          },
          nb::arg("cls"), nb::arg("group") = 16, nb::arg("delta_bits") = 4,
          nb::arg("context") = nb::none(),
          "#sparse_enc.dcsr<group, delta_bits>")
      .def_property_readonly("group", mlirSparseEncDCSRAttrGetGroup)
      .def_property_readonly("delta_bits", mlirSparseEncDCSRAttrGetDeltaBits);

  mlir_attribute_subclass(m, "NMAttr", mlirAttributeIsASparseEncNM,
                          mlirSparseEncNMAttrGetTypeID)
      .def_classmethod(
          "get",
          [](nb::object cls, int64_t n, int64_t mm, MlirContext ctx) {
            ErrorCollector errors;
            return cls(errors.check(
                mlirSparseEncNMAttrGet(ctx, n, mm, &ErrorCollector::append,
                                       &errors),
                "#sparse_enc.nm"));
          },
          nb::arg("cls"), nb::arg("n"), nb::arg("m"),
          nb::arg("context") = nb::none(), "#sparse_enc.nm<n, m>")
      .def_property_readonly("n", mlirSparseEncNMAttrGetN)
      .def_property_readonly("m", mlirSparseEncNMAttrGetM);

  mlir_attribute_subclass(m, "GSAttr", mlirAttributeIsASparseEncGS,
                          mlirSparseEncGSAttrGetTypeID)
      .def_classmethod(
          "get",
          [](nb::object cls, int64_t lanes, MlirContext ctx) {
            ErrorCollector errors;
            return cls(errors.check(
                mlirSparseEncGSAttrGet(ctx, lanes, &ErrorCollector::append,
                                       &errors),
                "#sparse_enc.gs"));
          },
          nb::arg("cls"), nb::arg("lanes") = 16,
          nb::arg("context") = nb::none(), "#sparse_enc.gs<lanes>")
      .def_property_readonly("lanes", mlirSparseEncGSAttrGetLanes);
}
