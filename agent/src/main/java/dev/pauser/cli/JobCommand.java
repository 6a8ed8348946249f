package dev.pauser.cli;

import dev.pauser.agent.cluster.JobClient;
import dev.pauser.agent.cluster.JobConnection;
import dev.pauser.agent.config.JobAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The {@code job} commands: a training job of several worker JVMs, reached through its ZooKeeper ensemble. */
@Command(name = "job", mixinStandardHelpOptions = true,
        description = {"Pause, resume or show a job of several worker JVMs started with cluster=<connect>/<job>.",
            "The job is named as the workers' cluster option names it: zk1:2181,zk2:2181/pauser/jobs/mnist."},
        subcommands = {JobCommand.Pause.class, JobCommand.Resume.class, JobCommand.Status.class})
final class JobCommand implements Runnable {
    /** How long a command waits for ZooKeeper to answer at all. */
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    @Override
    public void run() {
        throw new CliException(ExitCodes.USAGE, "job needs a command: pause, resume or status (see pauser job --help)");
    }

    /** What every job command takes. */
    abstract static class Base implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "<connect>/<job>",
                description = "The ZooKeeper connect string and the job's path, as in the workers' cluster option.")
        String job;

        @Option(names = "--zk-auth-file", paramLabel = "<file>", defaultValue = "${env:PAUSER_ZK_AUTH_FILE}",
                description = "The file holding user:password for the job's ZooKeeper nodes, as the workers' "
                        + "zkAuthFile option (default: the environment variable PAUSER_ZK_AUTH_FILE).")
        java.nio.file.Path authFile;

        @Mixin
        Output out;

        @Override
        public Integer call() throws Exception {
            try (JobClient c = connect()) {
                return run(c);
            } catch (JobClient.Failure e) {
                throw new CliException(ExitCodes.FAILED, e.getMessage());
            }
        }

        /** The command, on a connected client; a refusal of ZooKeeper's is one line and exit status 1. */
        abstract Integer run(JobClient c) throws Exception;

        JobClient connect() {
            JobAddress address;
            try {
                address = JobAddress.parse(job);
            } catch (IllegalArgumentException e) {
                throw new CliException(ExitCodes.USAGE, e.getMessage());
            }
            try {
                return JobClient.connect(address, CONNECT_TIMEOUT, authFile);
            } catch (IllegalArgumentException e) {
                throw new CliException(ExitCodes.USAGE, e.getMessage());
            } catch (JobConnection.Unreachable e) {
                throw new CliException(ExitCodes.FAILED, e.getMessage());
            }
        }

        static JobClient.Status existing(JobClient c) throws JobClient.Failure {
            JobClient.Status s = c.status();
            if (s.worldSize() < 0) {
                throw new CliException(ExitCodes.NOT_FOUND, "no job at " + c.address()
                        + ": no worker has joined it (check the path against the workers' cluster option)");
            }
            return s;
        }
    }

    @Command(name = "pause", mixinStandardHelpOptions = true,
            description = {"Pause every worker of the job at one step they agree on, no earlier than any has reached.",
                "Waits until all are paused there (see --wait)."})
    static final class Pause extends Base {
        @Option(names = "--wait", defaultValue = "60s", paramLabel = "<timeout>", converter = Timeouts.class,
                description = "Wait at most this long for every worker to pause (default 60s).")
        Duration wait;

        @Override
        Integer run(JobClient c) throws Exception {
            JobClient.Status s = existing(c);
            long epoch = c.requestPause();
            long deadline = System.nanoTime() + wait.toNanos();
            while (true) {
                OptionalLong agreed = c.agreedStep(epoch);
                s = c.status();
                if (agreed.isPresent() && allAt(s, "PAUSED", agreed.getAsLong())) {
                    long step = agreed.getAsLong();
                    out.print(Output.object("job", c.address().toString(), "state", "PAUSED", "step", step,
                            "workers", s.workers().size(), "worldSize", s.worldSize()),
                            "job " + c.address().path() + ": paused at step " + step + " (" + s.workers().size()
                                    + " of " + s.worldSize() + " workers)");
                    return ExitCodes.OK;
                }
                if (System.nanoTime() > deadline) {
                    throw new CliException(ExitCodes.TIMED_OUT, "job " + c.address().path() + " did not pause within "
                            + Timeouts.format(wait) + ": " + (agreed.isPresent()
                                    ? "agreed on step " + agreed.getAsLong() + "; " + describe(s)
                                    : "ranks answered: " + c.answered(epoch) + " of " + s.worldSize()
                                            + "; " + describe(s))
                            + "; the request stays, pauser job resume withdraws it");
                }
                TimeUnit.MILLISECONDS.sleep(50);
            }
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true,
            description = {"Resume every worker of the job; waits until none is paused (see --wait)."})
    static final class Resume extends Base {
        @Option(names = "--wait", defaultValue = "60s", paramLabel = "<timeout>", converter = Timeouts.class,
                description = "Wait at most this long for every worker to leave its pause (default 60s).")
        Duration wait;

        @Override
        Integer run(JobClient c) throws Exception {
            existing(c);
            c.requestResume();
            long deadline = System.nanoTime() + wait.toNanos();
            while (true) {
                JobClient.Status s = c.status();
                if (s.workers().stream().noneMatch(w -> w.state().equals("PAUSED"))) {
                    out.print(Output.object("job", c.address().toString(), "state", "RUNNING",
                            "workers", s.workers().size(), "worldSize", s.worldSize()),
                            "job " + c.address().path() + ": resumed (" + s.workers().size() + " workers)");
                    return ExitCodes.OK;
                }
                if (System.nanoTime() > deadline) {
                    throw new CliException(ExitCodes.TIMED_OUT, "job " + c.address().path() + " did not resume "
                            + "within " + Timeouts.format(wait) + ": " + describe(s));
                }
                TimeUnit.MILLISECONDS.sleep(50);
            }
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = {"Show each registered worker's rank, host, pid, state and step, and the newest step the",
                "whole job committed a checkpoint of."})
    static final class Status extends Base {
        @Override
        Integer run(JobClient c) throws Exception {
            JobClient.Status s = existing(c);
            List<Object> workers = new ArrayList<>();
            StringBuilder text = new StringBuilder();
            for (JobClient.Worker w : s.workers()) {
                workers.add(Output.object("rank", w.rank(), "host", w.host(), "pid", w.pid(), "state", w.state(),
                        "step", w.step()));
                text.append(String.format("rank %d  host %s  pid %d  %s  step %d%n", w.rank(), w.host(), w.pid(),
                        w.state(), w.step()));
            }
            if (s.workers().size() < s.worldSize()) {
                text.append(s.worldSize() - s.workers().size()).append(" of ").append(s.worldSize())
                        .append(" workers not registered").append(System.lineSeparator());
            }
            text.append("committed step ").append(s.committed().isPresent() ? s.committed().getAsLong() + "" : "none");
            out.print(Output.object("job", c.address().toString(), "worldSize", s.worldSize(), "workers", workers,
                    "committedStep", s.committed().isPresent() ? s.committed().getAsLong() : null),
                    text.toString());
            return ExitCodes.OK;
        }
    }

    private static boolean allAt(JobClient.Status s, String state, long step) {
        return s.workers().size() == s.worldSize()
                && s.workers().stream().allMatch(w -> w.state().equals(state) && w.step() == step);
    }

    private static String describe(JobClient.Status s) {
        StringBuilder b = new StringBuilder();
        for (JobClient.Worker w : s.workers()) {
            b.append(b.length() == 0 ? "" : ", ").append("rank ").append(w.rank()).append(' ').append(w.state())
                    .append(" at step ").append(w.step());
        }
        return (b.length() == 0 ? "no worker registered" : b) + " (" + s.workers().size() + " of " + s.worldSize()
                + " registered)";
    }
}
