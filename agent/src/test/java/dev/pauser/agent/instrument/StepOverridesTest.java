package dev.pauser.agent.instrument;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pauser.TrainStep;
import java.util.Set;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import org.junit.jupiter.api.Test;

/** Which methods implement or override an inherited {@code @TrainStep} method, on classes described by reflection. */
class StepOverridesTest {
    interface Step<B> {
        @TrainStep
        boolean step(B batch);
    }

    static class Batch {
    }

    static final class BatchStep implements Step<Batch> {
        @Override
        public boolean step(Batch batch) {
            return false;
        }

        /** Same name, another signature: not a step. */
        public boolean step(String other) {
            return false;
        }
    }

    abstract static class Base {
        @TrainStep
        abstract void run();

        @TrainStep
        void concrete() {
        }
    }

    abstract static class Middle extends Base {
    }

    static class Leaf extends Middle {
        @Override
        void run() {
        }

        @Override
        void concrete() {
        }

        void other() {
        }
    }

    static class Unrelated implements Runnable {
        @Override
        public void run() {
        }
    }

    @Test
    void genericInterfaceStepsAreComparedWithTheTypeArgumentApplied() {
        TypeDescription type = TypeDescription.ForLoadedType.of(BatchStep.class);
        assertEquals(Set.of("step(" + Batch.class.getName() + ",)"), StepOverrides.inheritedSteps(type));
        assertTrue(StepOverrides.declaresStepOverride(new java.util.HashMap<>()).matches(type));
        int steps = 0;
        for (MethodDescription m : type.getDeclaredMethods()) {
            boolean step = StepOverrides.overridesStep().matches(m);
            if (m.isConstructor()) {
                assertFalse(step);
                continue;
            }
            if (m.isBridge()) {
                continue; // synthetic: the Instrumenter leaves bridges alone
            }
            assertEquals(m.getParameters().get(0).getType().asErasure().represents(Batch.class), step, m.toString());
            steps += step ? 1 : 0;
        }
        assertEquals(1, steps);
    }

    @Test
    void abstractAndConcreteStepsOfAnyAncestorAreFound() {
        TypeDescription leaf = TypeDescription.ForLoadedType.of(Leaf.class);
        assertEquals(Set.of("run()", "concrete()"), StepOverrides.inheritedSteps(leaf));
        assertTrue(StepOverrides.declaresStepOverride(new java.util.HashMap<>()).matches(leaf));
        for (MethodDescription m : leaf.getDeclaredMethods()) {
            assertEquals(!m.getName().equals("other") && !m.isConstructor(), StepOverrides.overridesStep().matches(m),
                    m.toString());
        }
        assertFalse(StepOverrides.declaresStepOverride(new java.util.HashMap<>()).matches(TypeDescription.ForLoadedType.of(Middle.class)),
                "a class declaring no override has nothing to instrument");
    }

    @Test
    void classesWithoutAnnotatedAncestorsAreRejected() {
        TypeDescription unrelated = TypeDescription.ForLoadedType.of(Unrelated.class);
        assertTrue(StepOverrides.inheritedSteps(unrelated).isEmpty());
        assertFalse(StepOverrides.declaresStepOverride(new java.util.HashMap<>()).matches(unrelated));
        assertFalse(StepOverrides.declaresStepOverride(new java.util.HashMap<>()).matches(TypeDescription.ForLoadedType.of(String.class)));
    }
}
