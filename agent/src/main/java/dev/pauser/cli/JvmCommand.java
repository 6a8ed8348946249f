package dev.pauser.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** A command about one running JVM: its pid comes first, and it prints through {@link Output}. */
abstract class JvmCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "<pid>", description = "Process id of the JVM (see pauser list).")
    long pid;

    @Mixin
    Output out;
}
