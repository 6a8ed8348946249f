package dev.pauser.agent;

import dev.pauser.agent.checkpoint.CheckpointWiring;
import dev.pauser.agent.checkpoint.Checkpointer;
import dev.pauser.agent.cluster.JobWorker;
import dev.pauser.agent.config.Config;
import dev.pauser.agent.config.ConfigException;
import dev.pauser.agent.contract.AgentProperties;
import dev.pauser.agent.contract.PauserMXBean;
import dev.pauser.agent.control.ControlServer;
import dev.pauser.agent.control.Housekeeping;
import dev.pauser.agent.control.PauseEvents;
import dev.pauser.agent.control.PauserControl;
import dev.pauser.agent.control.PauserMBean;
import dev.pauser.agent.control.SignalStop;
import dev.pauser.agent.control.Stopper;
import dev.pauser.agent.instrument.Instrumenter;
import dev.pauser.agent.instrument.NamedMemberCheck;
import dev.pauser.agent.instrument.StepReport;
import dev.pauser.agent.log.Log;
import dev.pauser.agent.state.ModuleOpener;
import dev.pauser.agent.state.StateSchema;
import dev.pauser.gate.Gate;
import dev.pauser.gate.GateState;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Sets the agent up, once per JVM, after {@link PauserAgent} has put the jar on the bootstrap path. Loaded by Pauser's
 * own loader. Runs on the thread that loads the agent; at premain, the transformer is installed on
 * {@code pauser-instrument} while this thread opens the checkpoint directory (both before premain returns), and the JMX
 * MBean and control socket are set up on {@code pauser-start} beside the program's {@code main} ({@link StartupThread}).
 */
public final class AgentWiring {

    private static boolean started;

    private AgentWiring() {
    }

    /**
     * @param appendedToBootstrapNow whether {@link PauserAgent} appended the jar to the bootstrap class path in the
     *        running JVM (the JVM then says that class-data sharing covers its own classes only), rather than the JVM,
     *        from the manifest's {@code Boot-Class-Path}: before starting, or on a late attach while running (the same
     *        notice)
     */
    public static synchronized void start(String args, Instrumentation inst, boolean lateAttach, String agentJar,
            boolean appendedToBootstrapNow) {
        if (started) {
            Log.warn("the agent is already loaded in this JVM; ignoring the second load (options '" + args + "')");
            return;
        }
        if (!lateAttach && StepReport.isTool(System.getProperty("sun.java.command"), agentJar)) {
            // JAVA_TOOL_OPTIONS gives the agent to every JVM, jcmd and pauser itself included: a tool trains nothing,
            // and must neither resume nor take the checkpoint directory's lock from the run it was started to control
            return;
        }
        StartupTiming timing = new StartupTiming();
        Config config;
        NamedMemberCheck.Problems namedMembers;
        try {
            config = Config.load(args, System.getProperties(), System.getenv());
            namedMembers = NamedMemberCheck.check(config.steps(), config.states(),
                    ClassLoader.getSystemClassLoader());
            if (!namedMembers.errors().isEmpty()) {
                throw new ConfigException(String.join(System.lineSeparator(), namedMembers.errors()));
            }
        } catch (ConfigException e) {
            if (lateAttach) {
                // The running app must not die of a typo, and a throw here only gives the attaching tool "agent failed
                // to initialize" plus a stack trace in the app's output: leave one line and the reason for tools.
                System.setProperty(AgentProperties.ERROR, e.getMessage());
                System.err.println(e.getMessage());
                return;
            }
            System.err.println(e.getMessage());
            System.err.flush();
            System.exit(2);
            return;
        }
        Log.setThreshold(config.log());
        timing.mark("options");
        StateSchema.nameFields(config.states(), config.steps().keySet().stream().findFirst().orElse(null));
        Path dir = config.dir().toAbsolutePath().normalize();
        Path pauseFile = dir.resolve("PAUSE");
        Housekeeping housekeeping = new Housekeeping(pauseFile);
        Stopper stopper = new Stopper(config.graceSeconds());
        AtomicReference<PauserMBean> mbean = new AtomicReference<>();

        // Checkpointing comes before the instrumentation: on a late attach, steps run as soon as classes are
        // retransformed, and each trainer must be registered (and, at premain, restored) at its very first step.
        ModuleOpener.open(inst);
        String version = version();
        // The start line comes once the directory is known to be usable (a refused one is the only line), and before
        // anything about the checkpoint it resumes from.
        Runnable startLine = () -> Log.info("agent " + version + " loaded" + (lateAttach ? " late (attach)" : "")
                + "; dir " + dir + (config.given().isEmpty() ? "" : "; options " + config.given())
                + ((appendedToBootstrapNow || lateAttach) && Log.debugEnabled()
                        ? "; pauser.jar was put on the bootstrap class path"
                        + " of the running JVM, so class-data sharing now covers the JDK's classes only (the JVM's"
                        + " 'Sharing is only supported for boot loader classes' line; harmless)" : ""));
        // At premain no step can run before main, so the transformer is installed on a thread of its own while this one
        // opens the checkpoint directory; both are done before premain returns. On a late attach it must wait for the
        // checkpointing (above), and runs here.
        FutureTask<ClassFileTransformer> instrumentation = new FutureTask<>(() -> {
            timing.begin();
            ClassFileTransformer transformer = Instrumenter.install(inst, config.steps());
            timing.mark("instrumentation");
            return transformer;
        });
        if (!lateAttach) {
            // Once installed (premain may return), it goes on to make a first transformation's classes ready, beside
            // main loading the program's classes.
            Thread installer = new Thread(() -> {
                instrumentation.run();
                try {
                    Instrumenter.warmUp(instrumentation.get());
                    timing.mark("instrumentation warm-up");
                } catch (Exception | LinkageError e) {
                    Log.debug("no warm-up of the instrumentation: " + e);
                }
            }, "pauser-instrument");
            installer.setDaemon(true);
            installer.start();
        }
        Checkpointer checkpointer;
        AtomicReference<JobWorker> job = new AtomicReference<>();
        try {
            String resume = config.resume();
            if (config.cluster() != null) {
                // Before the checkpoint to resume from is chosen: the job decides which step every worker resumes.
                resume = JobStart.join(config, dir, lateAttach, job);
            }
            checkpointer = startCheckpoints(config, resume, dir, lateAttach, stopper, mbean, job, startLine);
        } catch (CheckpointWiring.DirectoryRefused | JobStart.Refused e) {
            if (lateAttach) {
                // Nothing is instrumented yet and the directory was left untouched: the app goes on as it was, and
                // the attaching tool reads the reason from this property.
                System.setProperty(AgentProperties.ERROR, e.getMessage());
                System.err.println(e.getMessage() + " -- the agent is not loaded; the program goes on without it");
                return;
            }
            System.err.println(e.getMessage());
            System.err.flush();
            System.exit(2);
            return;
        }
        timing.mark("checkpoint directory and resume lookup");
        if (job.get() != null) {
            job.get().start(checkpointer, stopper, checkpointer.status().lastPath().isEmpty() ? -1
                    : checkpointer.status().lastStep());
            timing.mark("job registration");
        }
        StepReport.install(inst, lateAttach, agentJar);
        if (lateAttach) {
            instrumentation.run();
        }
        try {
            instrumentation.get();
            timing.mark("rest of the instrumentation");
        } catch (ExecutionException e) {
            throw new IllegalStateException("pauser: cannot install the instrumentation: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("pauser: interrupted while installing the instrumentation", e);
        }
        namedMembers.warnings().forEach(Log::warn);
        config.steps().forEach((type, methods) -> methods.forEach(m -> Log.info("step=" + type + "#" + m
                + ": each call is a step (pause point); state the library keeps in local variables of its loop is"
                + " not checkpointed, so resume is exact only when the fields holding the state are named with"
                + " state= or @TrainState")));

        Gate.addListener(AgentWiring::logStateChange);
        addJfrEvents();
        if (config.onSignal() == Config.OnSignal.STOP) {
            SignalStop.install(stopper);
        }
        if (config.pauseAtStep() > 0) {
            Gate.pauseAtStep(config.pauseAtStep());
        }
        if (config.stopAtStep() > 0) {
            long stopAt = config.stopAtStep();
            Gate.stopAtStep(stopAt, () -> stopper.stop("stopAtStep=" + stopAt + " reached", 0));
        }
        Gate.start();
        housekeeping.start();
        timing.mark("gate, signals, pause file");
        started = true;
        Runnable mbeanUp = () -> {
            timing.begin();
            PauserControl control = new PauserControl(dir.toString(), pauseFile.toString(),
                    config.onSignal().name(), config.graceSeconds(), version, housekeeping::stepsPerSecond,
                    () -> stopper.request("stop requested over JMX", 0), checkpointer);
            if (job.get() != null) {
                control.showJob(job.get());
            }
            mbean.set(registerMBean(control));
            timing.mark("JMX MBean");
        };
        Runnable announce = () -> {
            if (mbean.get() != null) {
                startControlSocket();
                timing.mark("control socket");
            }
            System.setProperty(AgentProperties.VERSION, version);
            System.setProperty(AgentProperties.DIR, dir.toString());
            System.clearProperty(AgentProperties.ERROR);
            System.clearProperty(AgentProperties.STARTING);
        };
        if (lateAttach) {
            // The attaching tool reads the outcome from the properties as soon as the load returns.
            mbeanUp.run();
            announce.run();
        } else {
            System.setProperty(AgentProperties.STARTING, version);
            StartupThread.start(mbeanUp, announce);
            timing.mark("start of pauser-start");
        }
    }

    /** @param resume the {@code resume} setting to use: the option's, or the job's choice for this worker */
    private static Checkpointer startCheckpoints(Config config, String resume, Path dir, boolean lateAttach,
            Stopper stopper, AtomicReference<PauserMBean> mbean, AtomicReference<JobWorker> job, Runnable startLine) {
        boolean noResumeOnAttach = lateAttach && !resume.equals("never");
        if (noResumeOnAttach) {
            // The run is already going: restoring a checkpoint into it now would replace live state mid-training.
            resume = "never";
        }
        String resumeOption = config.resume();
        Runnable opened = () -> {
            startLine.run();
            if (noResumeOnAttach) {
                Log.info("attached to a running JVM: no resume (resume=" + resumeOption + " applies at start-up only)");
            }
        };
        CheckpointWiring.Settings settings = new CheckpointWiring.Settings(dir, resume, config.onMismatch(),
                config.keep(), config.keepEvery(), config.every(), config.interval(), config.async(),
                config.checkpointOnPause(), config.graceSeconds(), config.releaseGpuOnPause());
        Consumer<String> fatal = lateAttach
                // One line on standard error, where the attaching tool says to look, whatever the app's logging does
                // with JDK logging (whose default format puts "SEVERE:" and a second line around it).
                ? message -> {
                    System.err.println("pauser: " + message.replaceFirst("^pauser: ", "")
                            .replace(System.lineSeparator(), " ").replace("\n", " ")
                            + " -- checkpoints are off in this JVM; training goes on");
                    System.err.flush();
                }
                : message -> {
                    System.err.println(message);
                    System.err.flush();
                    System.exit(2);
                };
        Checkpointer.Listener notify = (result, reason) -> {
            PauserMBean registered = mbean.get();
            if (registered != null) {
                registered.checkpointed(result, reason);
            }
            JobWorker worker = job.get();
            if (worker != null) {
                worker.checkpointed(result, reason);
            }
        };
        Runnable afterExit = () -> {
            JobWorker worker = job.get();
            if (worker != null) {
                worker.finish(); // the exit checkpoint's record, then a short wait for its commit
            }
        };
        return CheckpointWiring.start(settings, notify, fatal, stopper::addHook, opened, afterExit);
    }

    /** One line per state change; the RUNNING/CHECKPOINTING round trips of periodic checkpoints only at debug. */
    private static void logStateChange(GateState from, GateState to, long step, long millis) {
        String line = "state " + from + " -> " + to + " at step " + step
                + (from == GateState.PAUSED ? " (paused " + millis + " ms)" : "")
                + (to == GateState.PAUSED && Gate.beforeFirstStep()
                        ? " (" + PauserMXBean.BEFORE_FIRST_STEP + PauserMXBean.NOTHING_HELD + ")" : "");
        boolean periodic = (from == GateState.RUNNING && to == GateState.CHECKPOINTING)
                || (from == GateState.CHECKPOINTING && to == GateState.RUNNING);
        if (periodic) {
            Log.debug(line);
        } else {
            Log.info(line);
        }
    }

    private static void addJfrEvents() {
        try {
            Gate.addListener(new PauseEvents());
        } catch (LinkageError e) {
            Log.debug("JFR is not available in this JVM; no Pauser events: " + e);
        }
    }

    private static PauserMBean registerMBean(PauserControl control) {
        if (ModuleLayer.boot().findModule("java.management").isEmpty()) {
            Log.error("cannot register the JMX MBean dev.pauser:type=Pauser: the module java.management is not in "
                    + "this JVM; add --add-modules java.management");
            return null;
        }
        try {
            PauserMBean mbean = new PauserMBean(control, PauserMBean.newEmitter());
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            server.registerMBean(mbean, mbean.objectName());
            Gate.addListener(mbean);
            return mbean;
        } catch (Exception e) {
            Log.error("cannot register the JMX MBean dev.pauser:type=Pauser: " + e);
            return null;
        }
    }

    /**
     * The command line's way in: an owner-only Unix-domain socket, published in {@link AgentProperties#CONTROL} before
     * the agent announces itself, so a command that sees the version also finds the socket. Removed when the JVM exits.
     */
    private static void startControlSocket() {
        if (ModuleLayer.boot().findModule("jdk.net").isEmpty()) {
            // SO_PEERCRED, which keeps other users out, lives there: no socket rather than one open to everyone
            Log.warn("no control socket for the pauser command line: the module jdk.net is not in this JVM; add "
                    + "--add-modules jdk.net, or use JConsole");
            return;
        }
        try {
            ControlServer control = ControlServer.start(ManagementFactory.getPlatformMBeanServer(),
                    new ObjectName(PauserMXBean.OBJECT_NAME), Log::warn);
            try {
                Runtime.getRuntime().addShutdownHook(new Thread(control::close, "pauser-control-exit"));
            } catch (IllegalStateException exiting) {
                // The program ended while pauser-start opened the socket: nobody will connect any more.
                control.close();
                return;
            }
            System.setProperty(AgentProperties.CONTROL, control.path().toString());
        } catch (Exception | LinkageError e) {
            Log.error("cannot open the control socket for the pauser command line: " + e
                    + "; JMX (JConsole) still works");
        }
    }

    static String version() {
        Package p = AgentWiring.class.getPackage();
        String v = p == null ? null : p.getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
