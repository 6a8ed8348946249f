package dev.pauser.agent.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.TrainState;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

class StateSchemaTest {

    static class Bad {
        @TrainState
        static final int CONSTANT = 3;
        @TrainState
        static final Integer STATIC_FINAL_BOXED = 4;
        @TrainState
        static final float[] STATIC_FINAL_ARRAY = new float[3]; // fine: restored in place
        @TrainState
        final int instanceConstant = 5;
        @TrainState
        Thread worker;
        @TrainState
        ThreadLocalRandom tlr;
        @TrainState
        SecureRandom secure;
        @TrainState
        Object anything;
        @SuppressWarnings("rawtypes")
        @TrainState
        List raw;
        @TrainState
        Optional<String> optional;
        @TrainState
        List<Holder> holders; // Holder has a Thread inside
    }

    static final class Holder {
        Thread inside;
    }

    record Point(@TrainState int x, @TrainState int[] ys) {
    }

    static class Good {
        @TrainState
        final int assignedInConstructor;
        @TrainState
        static final List<String> STATIC_FINAL_LIST = new ArrayList<>();

        Good() {
            assignedInConstructor = 1;
        }
    }

    @Test
    void everyProblemIsListedInOneException() {
        StateException e = assertThrows(StateException.class, () -> StateSchema.of(Bad.class));
        System.out.println(e.getMessage());
        String b = Bad.class.getName() + ".";
        List<String> p = e.problems();
        assertEquals(10, p.size(), e.getMessage());
        assertLine(p, b + "CONSTANT", "compile-time constant");
        assertLine(p, b + "STATIC_FINAL_BOXED", "can't be restored: make it non-final or an array/collection");
        assertLine(p, b + "instanceConstant", "compile-time constant");
        assertLine(p, b + "worker", "no codec handles the JDK class java.lang.Thread");
        assertLine(p, b + "tlr", "ThreadLocalRandom can't be checkpointed: its state lives in the thread");
        assertLine(p, b + "secure", "SecureRandom can't be checkpointed: its state lives in the OS");
        assertLine(p, b + "anything", "declare a concrete type");
        assertLine(p, b + "raw", "declare the element types");
        assertLine(p, b + "optional", "java.util.Optional");
        assertLine(p, b + "holders", "java.lang.Thread");
        assertTrue(p.stream().noneMatch(l -> l.contains("STATIC_FINAL_ARRAY")), e.getMessage());
        assertTrue(p.stream().noneMatch(l -> l.contains("\n")), "one line per problem");
    }

    @Test
    void recordComponentsThatCantBeFilledInPlaceAreErrors() {
        StateException e = assertThrows(StateException.class, () -> StateSchema.of(Point.class));
        assertEquals(1, e.problems().size(), e.getMessage());
        assertLine(e.problems(), Point.class.getName() + ".x", "record component int) can't be restored");
    }

    @Test
    void finalInstanceFieldsWithoutConstantAndStaticFinalCollectionsAreFine() {
        StateSchema s = StateSchema.of(Good.class);
        assertEquals(List.of("assignedInConstructor", "STATIC_FINAL_LIST"),
                s.fields().stream().map(StateField::key).toList());
        assertTrue(s.hasInstanceFields());
    }

    static class SwappedRandom {
        @TrainState
        java.util.Random random = new java.util.Random(1);
    }

    @Test
    void aThreadLocalRandomAssignedAtRunTimeFailsTheCapture() {
        SwappedRandom s = new SwappedRandom();
        StateCapture capture = new StateCapture(StateSchema.of(SwappedRandom.class));
        s.random = ThreadLocalRandom.current();
        StateException e = assertThrows(StateException.class, () -> capture.capture(s));
        assertTrue(e.getMessage().contains("random ('random'): a java.util.concurrent.ThreadLocalRandom can't be"
                + " checkpointed: its state lives in the thread"), e.getMessage());
    }

    private static void assertLine(List<String> problems, String field, String text) {
        assertTrue(problems.stream().anyMatch(l -> l.startsWith(field + ":") || l.startsWith(field + " ")
                && l.contains(text)) && problems.stream().anyMatch(l -> l.startsWith(field) && l.contains(text)),
                "no line for " + field + " containing '" + text + "' in:\n" + String.join("\n", problems));
    }
}
