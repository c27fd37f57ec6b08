package io.flinktrt.tools.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The bench command's one table, printed and saved as CSV. */
final class BenchTable {

    /** One measured figure. {@code reference} is the raw figure it is compared with, or 0. */
    record Row(
            String stage,
            int batch,
            int slots,
            double recordsPerSecond,
            double reference,
            String note) {}

    private final List<Row> rows = new ArrayList<>();

    void add(Row row) {
        rows.add(row);
    }

    List<Row> rows() {
        return rows;
    }

    void print(PrintStream out) {
        out.printf(
                "%-28s %6s %6s %14s %8s  %s%n",
                "stage", "batch", "slots", "records/s", "ratio", "note");
        for (Row row : rows) {
            out.printf(
                    "%-28s %6d %6d %,14.0f %8s  %s%n",
                    row.stage(),
                    row.batch(),
                    row.slots(),
                    row.recordsPerSecond(),
                    row.reference() > 0
                            ? String.format("%.3f", row.recordsPerSecond() / row.reference())
                            : "",
                    row.note());
        }
    }

    void writeCsv(Path file) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add("stage,batch,slots,records_per_second,ratio_to_raw,note");
        for (Row row : rows) {
            lines.add(
                    String.format(
                            "%s,%d,%d,%.1f,%s,\"%s\"",
                            row.stage(),
                            row.batch(),
                            row.slots(),
                            row.recordsPerSecond(),
                            row.reference() > 0
                                    ? String.format(
                                            "%.4f", row.recordsPerSecond() / row.reference())
                                    : "",
                            row.note().replace("\"", "'")));
        }
        Files.write(file, lines);
    }
}
