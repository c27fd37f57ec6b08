package io.flinktrt.jobs.sql;

import org.apache.flink.annotation.Internal;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.table.api.ResultKind;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Runs a script's statements in order on a {@link TableEnvironment}, as the SQL client does: DDL
 * and {@code SET 'key' = 'value'} take effect, a query prints its rows (until it ends, or up to its
 * LIMIT), and an INSERT or statement set is submitted as a job that keeps running ({@code SET
 * 'table.dml-sync' = 'true'} waits for it instead).
 */
@Internal
public final class SqlScriptRunner {

    /** {@code SET 'key' = 'value'}. */
    private static final Pattern SET =
            Pattern.compile(
                    "SET\\s+'([^']+)'\\s*=\\s*'((?:[^']|'')*)'",
                    Pattern.CASE_INSENSITIVE | Pattern.DOTALL);

    private static final Pattern LIMIT =
            Pattern.compile("\\bLIMIT\\s+(\\d+)\\s*$", Pattern.CASE_INSENSITIVE);

    private final TableEnvironment tables;
    private final PrintStream out;

    public SqlScriptRunner(TableEnvironment tables, PrintStream out) {
        this.tables = tables;
        this.out = out;
    }

    /**
     * Runs every statement; returns the jobs the INSERTs submitted. A failing statement stops the
     * script.
     */
    public List<JobClient> run(List<String> statements) {
        List<JobClient> jobs = new ArrayList<>();
        for (String statement : statements) {
            out.println("> " + SqlScript.summary(statement));
            Matcher set = SET.matcher(statement);
            if (set.matches()) { // the SQL client's SET, which executeSql does not take
                tables.getConfig().set(set.group(1), set.group(2).replace("''", "'"));
                continue;
            }
            TableResult result = tables.executeSql(statement);
            if (isDml(statement)) {
                result.getJobClient()
                        .ifPresent(
                                job -> {
                                    jobs.add(job);
                                    out.println("  job " + job.getJobID() + " submitted");
                                });
            } else if (result.getResultKind()
                    == ResultKind.SUCCESS_WITH_CONTENT) { // a query, SHOW, EXPLAIN
                print(result, limit(statement));
            }
        }
        return jobs;
    }

    /**
     * Prints rows as they come. A streaming query with a LIMIT never ends by itself (its source
     * goes on), so it stops here once it has printed that many rows.
     */
    private void print(TableResult result, long limit) {
        out.println(String.join(" | ", result.getResolvedSchema().getColumnNames()));
        long printed = 0;
        try (CloseableIterator<Row> rows = result.collect()) {
            while (printed < limit && rows.hasNext()) {
                Row row = rows.next();
                out.println(
                        IntStream.range(0, row.getArity())
                                .mapToObj(i -> format(row.getField(i)))
                                .collect(Collectors.joining(" | ")));
                printed++;
            }
        } catch (Exception e) {
            throw new IllegalStateException(
                    "Reading the query's rows failed: " + e.getMessage(), e);
        }
        out.println("(" + printed + " rows)");
    }

    private static String format(Object value) {
        return value instanceof Object[] array ? Arrays.toString(array) : String.valueOf(value);
    }

    private static long limit(String statement) {
        Matcher limit = LIMIT.matcher(statement.trim());
        return limit.find() ? Long.parseLong(limit.group(1)) : Long.MAX_VALUE;
    }

    private static boolean isDml(String statement) {
        String text = statement.trim().toUpperCase(Locale.ROOT);
        return text.startsWith("INSERT")
                || text.startsWith("EXECUTE")
                || text.startsWith("BEGIN STATEMENT SET");
    }
}
