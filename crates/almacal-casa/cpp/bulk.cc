// almacal's own bulk reads of casacore array columns: the cells of many rows in one call,
// straight into a caller's buffer (see src/bulk.rs). Compiled against the casacore that
// rubbl_casatables_impl builds (namespace rubbl_casacore).
#include <casacore/casa/Arrays/Array.h>
#include <casacore/casa/Arrays/Vector.h>
#include <casacore/casa/BasicSL/Complex.h>
#include <casacore/tables/Tables/ArrayColumn.h>
#include <casacore/tables/Tables/RefRows.h>
#include <casacore/tables/Tables/Table.h>
#include <casacore/tables/Tables/TableLock.h>

#include <cstdint>
#include <cstring>
#include <exception>
#include <string>

using namespace casacore;

namespace {

void set_err(char *err, size_t errlen, const char *msg) {
    if (err == nullptr || errlen == 0)
        return;
    std::strncpy(err, msg, errlen - 1);
    err[errlen - 1] = '\0';
}

template <typename T>
int get_cells(Table &tab, const char *col, const uint64_t *rows, size_t nrows, void *out,
              size_t out_len, char *err, size_t errlen) {
    ArrayColumn<T> c(tab, col);
    if (nrows == 0)
        return 0;
    IPosition cell = c.shape(rows[0]);
    IPosition full(cell.nelements() + 1);
    for (size_t i = 0; i < cell.nelements(); i++)
        full[i] = cell[i];
    full[cell.nelements()] = (ssize_t)nrows;
    if ((size_t)full.product() != out_len) {
        std::string m = "column " + std::string(col) + ": cell shape " + cell.toString() +
                        " does not match the buffer";
        set_err(err, errlen, m.c_str());
        return -1;
    }
    Vector<rownr_t> rv(nrows);
    for (size_t i = 0; i < nrows; i++)
        rv[i] = rows[i];
    RefRows rr(rv, False, True);
    Array<T> arr(full, static_cast<T *>(out), SHARE);
    c.getColumnCells(rr, arr, False);
    return 0;
}

} // namespace

extern "C" {

void *almacal_bulk_open(const char *path, char *err, size_t errlen) {
    try {
        return new Table(String(path), TableLock(TableLock::AutoNoReadLocking), Table::Old);
    } catch (const std::exception &e) {
        set_err(err, errlen, e.what());
    } catch (...) {
        set_err(err, errlen, "unknown casacore error");
    }
    return nullptr;
}

void almacal_bulk_close(void *t) {
    try {
        delete static_cast<Table *>(t);
    } catch (...) {
    }
}

// kind: 0 Complex (float), 1 Bool, 2 Float, 3 Double.
int almacal_bulk_get(void *t, const char *col, int kind, const uint64_t *rows, size_t nrows,
                     void *out, size_t out_len, char *err, size_t errlen) {
    try {
        Table &tab = *static_cast<Table *>(t);
        switch (kind) {
        case 0:
            return get_cells<Complex>(tab, col, rows, nrows, out, out_len, err, errlen);
        case 1:
            return get_cells<Bool>(tab, col, rows, nrows, out, out_len, err, errlen);
        case 2:
            return get_cells<Float>(tab, col, rows, nrows, out, out_len, err, errlen);
        case 3:
            return get_cells<Double>(tab, col, rows, nrows, out, out_len, err, errlen);
        default:
            set_err(err, errlen, "unknown element kind");
            return -1;
        }
    } catch (const std::exception &e) {
        set_err(err, errlen, e.what());
    } catch (...) {
        set_err(err, errlen, "unknown casacore error");
    }
    return -1;
}
}
