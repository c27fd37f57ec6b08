package io.flinktrt.jobs.sql;

import org.apache.flink.annotation.Internal;

import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The flags that name a SQL script and its variables, for the local command and the cluster entry
 * point.
 */
@Internal
public final class SqlScriptOptions {

    @Option(
            names = {"-f", "--file"},
            required = true,
            paramLabel = "SCRIPT.sql",
            description =
                    "The SQL script: statements ended by ';' (CREATE TABLE/MODEL, SET, INSERT, SELECT ...).")
    public Path file;

    @Option(
            names = "--var",
            paramLabel = "NAME=VALUE",
            description = "Replaces $${NAME} in the script; repeatable.")
    public Map<String, String> variables = new LinkedHashMap<>();

    /** The script's statements, with {@code defaults} for variables not given with --var. */
    public List<String> statements(Map<String, String> defaults) throws IOException {
        Map<String, String> all = new LinkedHashMap<>(defaults);
        all.putAll(variables);
        return SqlScript.read(file, all);
    }
}
