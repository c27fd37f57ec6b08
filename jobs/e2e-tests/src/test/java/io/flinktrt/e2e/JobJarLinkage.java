package io.flinktrt.e2e;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.spi.ToolProvider;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The build's check that the job jar links on a Flink cluster: every class that a class in the jar
 * refers to must be in the jar, in Flink's distribution {@code lib/} or in our {@code flink-lib/}
 * (the jars the README puts into {@code lib/}). Anything else would fail on the cluster only, with
 * a {@code NoClassDefFoundError}, as Jackson once did. The JDK's {@code jdeps} finds the
 * references.
 *
 * <p>Run by the jobs module's {@code package} phase: {@code JobJarLinkage <job jar>
 * <allowed-missing file> <lib dir>...}. The allowed-missing file lists package prefixes that the
 * jar's dependencies refer to only on paths this job never takes, each with the reason.
 */
public final class JobJarLinkage {

    private JobJarLinkage() {}

    public static void main(String[] args) throws IOException {
        if (args.length < 3) {
            throw new IllegalArgumentException(
                    "usage: JobJarLinkage <job jar> <allowed-missing file> <lib dir>...");
        }
        Path jar = Path.of(args[0]);
        List<String> allowed = allowedPrefixes(Path.of(args[1]));
        List<Path> classpath = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            try (Stream<Path> jars = Files.list(Path.of(args[i]))) {
                jars.filter(p -> p.toString().endsWith(".jar")).sorted().forEach(classpath::add);
            }
        }
        Map<String, TreeSet<String>> missing = missing(jar, classpath, allowed);
        if (!missing.isEmpty()) {
            String report =
                    missing.entrySet().stream()
                            .map(
                                    e ->
                                            "  "
                                                    + e.getKey()
                                                    + "  <- "
                                                    + String.join(
                                                            ", ",
                                                            e.getValue().stream().limit(3).toList())
                                                    + (e.getValue().size() > 3
                                                            ? " and "
                                                                    + (e.getValue().size() - 3)
                                                                    + " more"
                                                            : ""))
                            .collect(Collectors.joining("\n"));
            throw new IllegalStateException(
                    jar.getFileName()
                            + " refers to classes that a Flink cluster does not have"
                            + " (not in the jar, Flink's lib/ or "
                            + args[args.length - 1]
                            + "):\n"
                            + report
                            + "\nCarry the dependency in the job jar (maven-shade-plugin includes in jobs/pom.xml, relocated if"
                            + " Flink or a user could have another version), leave the referring class out of the jar, or, if"
                            + " the job can never reach it, add the package to "
                            + args[1]
                            + " with the reason.");
        }
        System.out.println(
                jar.getFileName()
                        + " links against Flink's lib/ and "
                        + args[args.length - 1]
                        + " ("
                        + classpath.size()
                        + " jars; allowed missing: "
                        + allowed
                        + ")");
    }

    /** Missing class, by package, to the classes of the jar that refer to it. */
    static Map<String, TreeSet<String>> missing(
            Path jar, List<Path> classpath, List<String> allowed) {
        ToolProvider jdeps =
                ToolProvider.findFirst("jdeps")
                        .orElseThrow(
                                () ->
                                        new IllegalStateException(
                                                "jdeps not found: build with a JDK, not a JRE"));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code =
                jdeps.run(
                        new PrintWriter(out),
                        new PrintWriter(err),
                        "--multi-release",
                        "17",
                        "--missing-deps",
                        "--class-path",
                        classpath.stream().map(Path::toString).collect(Collectors.joining(":")),
                        jar.toString());
        if (code != 0) {
            throw new IllegalStateException(
                    "jdeps failed with exit code " + code + ": " + err + out);
        }
        // Lines look like "   io.flinktrt.schema.DataType  ->
        // com.fasterxml.jackson.core.JsonParseException  not found".
        Map<String, TreeSet<String>> missing = new TreeMap<>();
        for (String line : out.toString().split("\n")) {
            String[] words = line.trim().split("\\s+");
            if (words.length == 5
                    && words[1].equals("->")
                    && line.trim().endsWith("not found")
                    && allowed.stream().noneMatch(words[2]::startsWith)) {
                String pkg =
                        words[2].contains(".")
                                ? words[2].substring(0, words[2].lastIndexOf('.'))
                                : words[2];
                missing.computeIfAbsent(pkg, k -> new TreeSet<>()).add(words[0]);
            }
        }
        return missing;
    }

    private static List<String> allowedPrefixes(Path file) throws IOException {
        try (Stream<String> lines = Files.lines(file)) {
            return lines.map(l -> l.replaceAll("#.*", "").trim())
                    .filter(l -> !l.isEmpty())
                    .toList();
        }
    }
}
