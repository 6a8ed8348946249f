package dev.pauser.cli;

import com.sun.tools.attach.VirtualMachineDescriptor;
import dev.pauser.agent.contract.PauserMXBean;
import dev.pauser.agent.control.ControlDirectory;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "list", mixinStandardHelpOptions = true,
        description = {"List the local JVMs that run the Pauser agent: pid, state, step, main class.",
            "JVMs of other users and JVMs without the agent are left out; so are JVMs that refuse attach, unless",
            "their agent's socket is in its default place."})
final class ListCommand implements Callable<Integer> {
    /** Attaching waits for a slow or busy JVM; several at once keep one such JVM from holding up the list. */
    private static final int PARALLEL = 4;
    /** A JVM that has not answered by then is left out rather than hanging the command. */
    private static final long PROBE_SECONDS = 15;

    @Mixin
    Output out;

    @Override
    public Integer call() throws InterruptedException {
        List<VirtualMachineDescriptor> jvms = Jvms.list();
        // JVMs whose agent serves a socket in this user's control directory but that the Attach API does not list
        // (attach disabled): reachable all the same
        Set<Long> listed = new HashSet<>();
        for (VirtualMachineDescriptor d : jvms) {
            listed.add(Long.parseLong(d.id()));
        }
        List<Long> unlisted = new ArrayList<>();
        for (long pid : ControlDirectory.publishedPids()) {
            if (listed.add(pid) && pid != ProcessHandle.current().pid()) {
                unlisted.add(pid);
            }
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        if (!jvms.isEmpty() || !unlisted.isEmpty()) {
            int threads = Math.min(PARALLEL, jvms.size() + unlisted.size());
            ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
                Thread t = new Thread(r, "pauser-list");
                t.setDaemon(true); // a JVM that never answers must not keep this command alive
                return t;
            });
            try {
                List<Future<Map<String, Object>>> probes = new ArrayList<>();
                for (VirtualMachineDescriptor d : jvms) {
                    long pid = Long.parseLong(d.id());
                    probes.add(pool.submit(() -> probe(pid, d.displayName(), () -> Target.connect(d))));
                }
                for (long pid : unlisted) {
                    probes.add(pool.submit(() -> probe(pid, Jvms.displayName(pid), () -> Target.connect(pid))));
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(PROBE_SECONDS);
                for (Future<Map<String, Object>> f : probes) {
                    try {
                        Map<String, Object> row = f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                        if (row != null) {
                            rows.add(row);
                        }
                    } catch (Exception e) {
                        // odd JVM (gone, refusing, too slow): not ours to list
                    }
                }
            } finally {
                pool.shutdownNow();
            }
        }
        out.print(rows, table(rows));
        return ExitCodes.OK;
    }

    /** The row for one JVM, or null when it does not run the agent or cannot be reached. */
    private static Map<String, Object> probe(long pid, String displayName, Supplier<Target> connect) {
        try (Target target = connect.get()) {
            PauserMXBean p = target.pauser();
            String main = displayName.isBlank() ? "" : displayName.trim().split("\\s+", 2)[0];
            return Output.object("pid", pid, "mainClass", main, "displayName", displayName,
                    "state", p.getState(), "step", p.getStep(), "version", p.getVersion());
        } catch (RuntimeException e) {
            return null; // no agent there, attach refused, gone meanwhile: not ours to list
        }
    }

    private static String table(List<Map<String, Object>> rows) {
        if (rows.isEmpty()) {
            return "no local JVM runs the Pauser agent";
        }
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-8s %-9s %10s  %s", "PID", "STATE", "STEP",
                "MAIN CLASS"));
        for (Map<String, Object> r : rows) {
            sb.append(System.lineSeparator()).append(String.format(Locale.ROOT, "%-8s %-9s %10s  %s", r.get("pid"),
                    r.get("state"), r.get("step"), r.get("displayName")));
        }
        return sb.toString();
    }
}
