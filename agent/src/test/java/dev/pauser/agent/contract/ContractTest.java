package dev.pauser.agent.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.agent.contract.CheckpointOutcome.Status;
import dev.pauser.gate.GateState;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.management.JMX;
import javax.management.MBeanServer;
import javax.management.MBeanServerFactory;
import javax.management.ObjectName;
import javax.management.StandardMBean;
import javax.management.openmbean.CompositeData;
import org.junit.jupiter.api.Test;

/** The contract package stands alone, and its types are what JMX clients and the command line read. */
class ContractTest {

    @Test
    void theContractReferencesNoOtherPauserClass() throws Exception {
        Path dir = Path.of(PauserMXBean.class.getResource("PauserMXBean.class").toURI()).getParent();
        Pattern other = Pattern.compile("dev/pauser/(?!agent/contract/)[A-Za-z_$/]+");
        List<String> found = new ArrayList<>();
        int classes = 0;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".class"))::iterator) {
                classes++;
                // class names in a constant pool are UTF-8 with '/' separators; Latin-1 keeps every byte one char
                Matcher m = other.matcher(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1));
                while (m.find()) {
                    found.add(f.getFileName() + " -> " + m.group());
                }
            }
        }
        assertTrue(classes >= 5, "contract classes found in " + dir + ": " + classes);
        assertEquals(List.of(), found);
    }

    @Test
    void runStatesAreTheGatesStatesByName() {
        assertEquals(Arrays.stream(GateState.values()).map(Enum::name).toList(),
                Arrays.stream(RunState.values()).map(Enum::name).toList());
        assertTrue(RunState.PAUSED.is(GateState.PAUSED.name()));
        assertFalse(RunState.PAUSED.is(GateState.PAUSING.name()));
    }

    @Test
    void anOutcomeIsOpenDataForJmxClientsAndTypedAgainForJavaOnes() throws Exception {
        CheckpointOutcome written = new CheckpointOutcome(Status.DURABLE, 42, "/ckpt/ckpt-000000000042", 4096, 12, "",
                "/ckpt/ckpt-000000000042 (step 42, 4096 bytes, 12 ms)");
        MBeanServer server = MBeanServerFactory.newMBeanServer();
        ObjectName name = new ObjectName(PauserMXBean.OBJECT_NAME);
        PauserMXBean answering = (PauserMXBean) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {PauserMXBean.class}, (proxy, method, args) -> {
                    if (method.getName().equals("checkpointAndWaitForOutcome")) {
                        return written;
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
        server.registerMBean(new StandardMBean(answering, PauserMXBean.class, true), name);

        Object raw = server.invoke(name, "checkpointAndWaitForOutcome", new Object[] {1000L},
                new String[] {long.class.getName()});
        CompositeData data = (CompositeData) raw;
        assertEquals(Set.of("status", "step", "path", "bytes", "millis", "error", "message"),
                data.getCompositeType().keySet());
        assertEquals("DURABLE", data.get("status"), "an enum is its name: JConsole needs no Pauser class");
        assertEquals(42L, data.get("step"));
        assertEquals(written.path(), data.get("path"));
        assertEquals(written.message(), data.get("message"));

        assertEquals(written, JMX.newMXBeanProxy(server, name, PauserMXBean.class).checkpointAndWaitForOutcome(1000));
    }

    @Test
    void onlyStateThatIsSafeOnDiskOrAbsentSucceeds() {
        for (Status s : Status.values()) {
            CheckpointOutcome o = new CheckpointOutcome(s, 1, "", 0, 0, "", "");
            boolean expected = s == Status.DURABLE || s == Status.ALREADY_DURABLE || s == Status.NOTHING_TO_SAVE;
            assertEquals(expected, o.succeeded(), s.name());
        }
    }
}
