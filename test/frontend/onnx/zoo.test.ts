// The model zoo, first share of its models (the suite and its rules: zoo-suite.ts).
import { zooSuite } from "./zoo-suite.js";

zooSuite(0);
