package dev.pauser.bench;

import dev.pauser.TrainStep;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * The child JVM of {@link PauseLatencyBench}, run under the agent: step threads run a {@code @TrainStep} whose body
 * sleeps the step time (parked, so four step threads fit on two cores), and a harness thread pauses and resumes them
 * through the agent's MBean in this JVM's platform MBean server. Prints one line per run:
 * {@code run <i> pause-p99-ns <n> resume-p99-ns <n> step-median-ns <n>}. Arguments: {@code --threads N --step-us N
 * --runs N --cycles N}.
 */
public final class PauseLatencyTrainer {
    private static long stepNanos;
    /** Per step thread: when its latest step body began (System.nanoTime). */
    private static AtomicLongArray entered;
    /** Per step thread: how long its latest step body took. */
    private static AtomicLongArray took;

    private final int index;

    private PauseLatencyTrainer(int index) {
        this.index = index;
    }

    @TrainStep
    void step() {
        long t0 = System.nanoTime();
        entered.set(index, t0);
        LockSupport.parkNanos(stepNanos);
        took.set(index, System.nanoTime() - t0);
    }

    public static void main(String[] args) throws Exception {
        int threads = 1;
        int runs = 5;
        int cycles = 200;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--step-us" -> stepNanos = Long.parseLong(args[++i]) * 1000;
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--cycles" -> cycles = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; options: --threads N, --step-us N, --runs N, --cycles N");
            }
        }
        entered = new AtomicLongArray(threads);
        took = new AtomicLongArray(threads);
        for (int t = 0; t < threads; t++) {
            PauseLatencyTrainer trainer = new PauseLatencyTrainer(t);
            Thread th = new Thread(() -> {
                while (true) {
                    trainer.step();
                }
            }, "step-" + t);
            th.setDaemon(true);
            th.start();
        }
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName pauser = new ObjectName("dev.pauser:type=Pauser");
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!server.isRegistered(pauser)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the agent registered no " + pauser + " in a minute; is -javaagent set?");
            }
            Thread.sleep(1);
        }
        cycles(server, pauser, threads, Math.max(5, cycles / 10), null); // warm-up: the gate's and JMX's code compiled
        for (int r = 0; r < runs; r++) {
            cycles(server, pauser, threads, cycles, r);
        }
        System.exit(0);
    }

    private static void cycles(MBeanServer server, ObjectName pauser, int threads, int cycles, Integer run) throws Exception {
        long[] pause = new long[cycles];
        long[] resume = new long[cycles];
        long[] steps = new long[cycles];
        for (int c = 0; c < cycles; c++) {
            // pause at a random moment of a step
            LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(stepNanos + 1));
            long t0 = System.nanoTime();
            Object state = server.invoke(pauser, "pauseAndWait", new Object[] {60_000L}, new String[] {"long"});
            pause[c] = System.nanoTime() - t0;
            if (!"PAUSED".equals(state)) {
                throw new IllegalStateException("pauseAndWait gave " + state + " in cycle " + c);
            }
            steps[c] = took.get(c % threads);
            long r0 = System.nanoTime();
            server.invoke(pauser, "resume", new Object[0], new String[0]);
            long first;
            while ((first = firstEntryAfter(r0, threads)) == 0) {
                Thread.onSpinWait();
                if (System.nanoTime() - r0 > 60_000_000_000L) {
                    throw new IllegalStateException("no step began within a minute of resume() in cycle " + c);
                }
            }
            resume[c] = first - r0;
        }
        if (run != null) {
            System.out.printf("run %d pause-p99-ns %d resume-p99-ns %d step-median-ns %d%n", run, p99(pause), p99(resume),
                    median(steps));
        }
    }

    /** The earliest step entry after {@code since}, or 0 when no thread has entered a step since. */
    private static long firstEntryAfter(long since, int threads) {
        long first = 0;
        for (int t = 0; t < threads; t++) {
            long e = entered.get(t);
            if (e - since > 0 && (first == 0 || e - first < 0)) {
                first = e;
            }
        }
        return first;
    }

    private static long p99(long[] v) {
        long[] s = v.clone();
        Arrays.sort(s);
        return s[Math.min(s.length - 1, (int) Math.ceil(s.length * 0.99) - 1)];
    }

    private static long median(long[] v) {
        long[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
