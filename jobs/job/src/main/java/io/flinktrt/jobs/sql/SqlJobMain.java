package io.flinktrt.jobs.sql;

import org.apache.flink.annotation.Internal;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Runs a SQL script on the Flink cluster it is submitted to: {@code flink run -c
 * io.flinktrt.jobs.sql.SqlJobMain flink-tensorrt-job.jar -f script.sql --var
 * bootstrap_servers=kafka:9092}. Each INSERT becomes a job of that cluster; the entry point returns
 * once they are submitted. The cluster's lib/ needs Flink's table jars and flink-json (as in
 * Flink's distribution) besides flink-tensorrt's native jars.
 */
@Command(
        name = "sql-job",
        mixinStandardHelpOptions = true,
        description =
                "Run a SQL script (CREATE MODEL ... WITH ('provider' = 'tensorrt' ...), ML_PREDICT, INSERT)"
                        + " on the Flink cluster this jar is submitted to.")
@Internal
public final class SqlJobMain implements Callable<Integer> {

    @Mixin SqlScriptOptions script;

    public static void main(String[] args) {
        int code = new CommandLine(new SqlJobMain()).execute(args);
        if (code != 0) {
            throw new IllegalStateException(
                    "The SQL script failed (exit code " + code + "); see the error above.");
        }
    }

    @Override
    public Integer call() throws Exception {
        TableEnvironment tables = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        new SqlScriptRunner(tables, System.out).run(script.statements(Map.of()));
        return 0;
    }
}
