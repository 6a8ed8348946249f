package dev.pauser.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pauser.fixture.IsolationProbeMain;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import net.bytebuddy.ByteBuddy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Only the gate, its hooks and the annotations are on the bootstrap class path; the agent, the command line and the
 * shaded libraries load in Pauser's own loader. A program started with {@code -javaagent:pauser.jar} that trains (so
 * the agent is fully running) cannot reach any of them through its own loader, a child of it, the platform or the
 * bootstrap loader, nor find their class files as resources; it finds the gate on bootstrap; and its own Jackson and
 * ByteBuddy, the libraries Pauser shades, are its own copies and work.
 */
class ClassLoaderIsolationIT {
    /** A class of each part of the agent and of each shaded library. */
    private static final List<String> INTERNALS = List.of(
            "dev.pauser.agent.AgentWiring",
            "dev.pauser.agent.log.Log",
            "dev.pauser.agent.config.Config",
            "dev.pauser.agent.instrument.Instrumenter",
            "dev.pauser.agent.control.ControlServer",
            "dev.pauser.agent.checkpoint.Checkpointer",
            "dev.pauser.agent.state.StateSchema",
            "dev.pauser.agent.store.CheckpointStore",
            "dev.pauser.agent.contract.PauserMXBean",
            "dev.pauser.cli.PauserCli",
            "dev.pauser.shaded.bytebuddy.ByteBuddy",
            "dev.pauser.shaded.bytebuddy.jar.asm.ClassReader",
            "dev.pauser.shaded.jackson.databind.ObjectMapper",
            "dev.pauser.shaded.jackson.core.JsonFactory",
            "dev.pauser.shaded.picocli.CommandLine");

    @TempDir
    Path tmp;

    @Test
    void aProgramCannotSeeTheAgentsClassesOrItsShadedLibrariesAndKeepsItsOwnCopies() throws Exception {
        String classPath = ChildJvm.fixtureClassPath() + File.pathSeparator
                + ChildJvm.classPathOf(ObjectMapper.class, JsonFactory.class, JsonProperty.class, ByteBuddy.class);
        List<String> args = new ArrayList<>(List.of("5"));
        args.addAll(INTERNALS);
        Path dir = tmp.resolve("ckpt");
        try (ChildJvm app = ChildJvm.builder().agent("dir=" + dir).workDir(tmp)
                .main(classPath, IsolationProbeMain.class.getName(), args.toArray(String[]::new)).start()) {
            assertEquals(0, app.awaitExit(Duration.ofSeconds(60)), app.describe());
            String out = app.output();
            assertTrue(out.contains("pauser: instrumented 1 @TrainStep method in " + IsolationProbeMain.class.getName()),
                    "the agent ran: " + app.describe());
            assertTrue(out.contains("steps done 5"), app.describe());

            List<String> reachable = app.stdout().stream().filter(l -> l.startsWith("reachable ")).toList();
            assertEquals(List.of(), reachable, "the program reached Pauser's internals: " + app.describe());
            long hidden = app.stdout().stream().filter(l -> l.startsWith("hidden ")).count();
            assertEquals(INTERNALS.size() * 6L, hidden, "five loaders and the resource lookup per name: "
                    + app.describe());

            for (String onBootstrap : List.of("dev.pauser.TrainStep", "dev.pauser.spi.StateCodec",
                    "dev.pauser.gate.StepHooks")) {
                assertTrue(app.stdout().contains("bootstrap " + onBootstrap + " true"), app.describe());
            }
            List<String> libraries = app.stdout().stream().filter(l -> l.startsWith("app-library ")).toList();
            assertEquals(2, libraries.size(), app.describe());
            for (String line : libraries) {
                assertFalse(line.contains("pauser.jar"), "the app's own copy, not Pauser's: " + line);
            }
            assertTrue(libraries.get(0).endsWith("wrote {\"step\":5}"), libraries.get(0));
            assertTrue(libraries.get(1).endsWith("made gen.Made"), libraries.get(1));
        }
        try (Stream<Path> checkpoints = Files.list(dir)) {
            List<String> names = checkpoints.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith("ckpt-")).collect(Collectors.toList());
            assertFalse(names.isEmpty(), "the agent, in its own loader, wrote the exit checkpoint");
        }
    }
}
