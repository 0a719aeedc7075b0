import { Link } from "react-router";
import { PageHeading } from "../components/ui";
import { useTitle } from "../lib/useTitle";

export function NotFoundPage() {
  useTitle("Not found");
  return (
    <div>
      <PageHeading>Page not found</PageHeading>
      <p>
        There is nothing here.{" "}
        <Link className="text-indigo-700 underline" to="/">
          Browse the listings
        </Link>
        .
      </p>
    </div>
  );
}
