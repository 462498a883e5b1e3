// almacal's own bulk reads of casacore array columns: the cells of many rows in one call,
// straight into a caller's buffer (see src/bulk.rs), and a table flush that catches
// (src/write_table.rs). Every entry point catches all C++ exceptions. Compiled against the
// casacore that rubbl_casatables_impl builds (namespace rubbl_casacore).
#include <casacore/casa/Arrays/Array.h>
#include <casacore/casa/Arrays/Vector.h>
#include <casacore/casa/BasicSL/Complex.h>
#include <casacore/tables/Tables/ArrayColumn.h>
#include <casacore/tables/Tables/RefRows.h>
#include <casacore/casa/Containers/Record.h>
#include <casacore/tables/Tables/BaseTable.h>
#include <casacore/tables/Tables/Table.h>
#include <casacore/tables/Tables/TableRecord.h>
#include <casacore/tables/Tables/TableCopy.h>
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

// casacore rewrites a writable table's table.dat in its destructor even when nothing
// changed since the last flush (PlainTable::closeObject -> lock release -> putFile(True)),
// and destructors are noexcept: on a full disk that write terminates the process. After a
// complete flush the rewrite is redundant, so mark the table (and its subtables) as not to
// be written again: BaseTable's protected noWrite_p flag, the one casacore itself sets for
// tables that must not be written, reached through a member pointer.
struct NoWriteAccess : BaseTable {
    static Bool BaseTable::*flag() { return &NoWriteAccess::noWrite_p; }
};
// Table::baseTablePtr() is private; its protected pointer is reached the same way.
struct BasePtrAccess : Table {
    static BaseTable *Table::*ptr() { return &BasePtrAccess::baseTabPtr_p; }
};

void mark_written(const Table &t, int depth) {
    BaseTable *bt = t.*BasePtrAccess::ptr();
    if (bt == nullptr || depth > 8)
        return;
    const TableRecord &kws = t.keywordSet();
    for (uInt i = 0; i < kws.nfields(); i++) {
        if (kws.type(i) == TpTable) {
            mark_written(kws.asTable(i), depth + 1);
        }
    }
    bt->*NoWriteAccess::flag() = True;
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


// Finish writing a table that is open in this process (created or opened for writing
// through rubbl): flush it with its subtables, catching every exception, then mark them so
// that their destructors write nothing (see mark_written). A failure comes back as an error
// the caller can act on (src/write_table.rs) instead of a std::terminate in a destructor.
// The table must not be modified afterwards. Returns 0 on success, 1 when no table of that
// name is open, -1 on a casacore error.
int almacal_table_finish(const char *path, char *err, size_t errlen) {
    try {
        String name(path);
        if (!Table::isOpened(name)) {
            set_err(err, errlen, "the table is not open in this process");
            return 1;
        }
        // Found in casacore's table cache: this handle shares the open table (no file is
        // read), and deleting it only drops a reference.
        Table t(name, Table::Old);
        t.flush(False, True);
        mark_written(t, 0);
        return 0;
    } catch (const std::exception &e) {
        set_err(err, errlen, e.what());
    } catch (...) {
        set_err(err, errlen, "unknown casacore error");
    }
    return -1;
}

// The empty copy (no rows; keywords, info and subtables copied) of table `src` as the new
// table `dst`, like Table::deepCopy(..., noRows) but flushing the new table inside the
// try: deepCopy lets its new table's destructor write it, and a failure there terminates.
// After a failed flush the new table is leaked on purpose (its destructor would throw).
int almacal_deep_copy_no_rows(const char *src, const char *dst, char *err, size_t errlen) {
    Table *nt = nullptr;
    try {
        Table old(String(src), Table::Old);
        nt = new Table(TableCopy::makeEmptyTable(String(dst), Record(), old,
                                                 Table::NewNoReplace, Table::LocalEndian,
                                                 True, True));
        TableCopy::copyInfo(*nt, old);
        TableCopy::copySubTables(*nt, old, True);
        nt->flush(False, True);
        mark_written(*nt, 0);
        delete nt;
        return 0;
    } catch (const std::exception &e) {
        set_err(err, errlen, e.what());
    } catch (...) {
        set_err(err, errlen, "unknown casacore error");
    }
    return -1;
}
}
