package dev.pauser.bench;

import dev.pauser.TrainStep;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * The JMH benchmark {@link StepOverheadBench} runs: a loop of calls to a tiny {@code @TrainStep} (a few adds). Under the
 * agent every call passes the step boundary twice (entry and exit, nothing requested); without it the same method is
 * plain code. One operation is one step.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class StepOverheadJmh {
    static final int STEPS_PER_CALL = 1000;

    private long acc;
    private long a = 3;
    private long b = 5;

    /** The step: a few adds on the trainer's fields. */
    @TrainStep
    void step() {
        acc += a;
        a += b;
        b ^= acc;
    }

    @Benchmark
    @OperationsPerInvocation(STEPS_PER_CALL)
    public long steps() {
        for (int i = 0; i < STEPS_PER_CALL; i++) {
            step();
        }
        return acc;
    }
}
