/** The AWS region every test's SQS emulator and client use (the emulator accepts any; one name keeps them in step). */
export const REGION = "us-east-1";
