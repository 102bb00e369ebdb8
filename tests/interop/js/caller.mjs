// Resolves credentials through the SDK's default chain (AWS_PROFILE names a profile whose
// credential_process runs creds), then calls STS GetCallerIdentity at STS_ENDPOINT.
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";

const client = new STSClient({
  region: process.env.AWS_REGION || "us-east-1",
  endpoint: process.env.STS_ENDPOINT,
  credentials: fromNodeProviderChain(),
});
const out = await client.send(new GetCallerIdentityCommand({}));
const creds = await client.config.credentials();
console.log(JSON.stringify({ Arn: out.Arn, Account: out.Account, AccessKeyId: creds.accessKeyId, Expiration: creds.expiration }));
