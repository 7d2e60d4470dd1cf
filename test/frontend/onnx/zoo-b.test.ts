// The model zoo, second share of its models (the suite and its rules: zoo-suite.ts): a file
// of its own so that CI's two workers check the zoo side by side.
import { zooSuite } from "./zoo-suite.js";

zooSuite(1);
