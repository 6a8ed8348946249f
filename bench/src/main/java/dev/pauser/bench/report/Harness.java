package dev.pauser.bench.report;

import java.util.List;

/**
 * One harness {@link BenchAll} runs: a main class of the bench module, started in a JVM of its own from the repository
 * root. Every harness main takes {@code --smoke} (the smallest sizes and one run: shows that it works, proves nothing)
 * besides its own options, and records its figures through {@link Figures#record}.
 *
 * @param name short name, for {@code --only}
 * @param args the options of a full run
 */
public record Harness(String name, String mainClass, List<String> args) {
}
